export * from './codes.js';
export * from './topics.js';
