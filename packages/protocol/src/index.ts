export * from './codes.js';
export * from './topics.js';
export * from './frames.js';
export * from './device-frames.js';
export * from './client.js';
export * from './link-frames.js';
