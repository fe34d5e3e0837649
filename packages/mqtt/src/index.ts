/** @fieldlink/mqtt: Fieldlink's MQTT 3.1.1 + 5.0 broker core (ENGINE-API.md describes this surface). */
export { Engine, COUNTERS, type EngineOptions } from './engine.js';
export { DEFAULT_LIMITS, PROFILES, resolveLimits } from './limits.js';
export { RC, SENT_REASONS, connectReturnCode, type SentReason } from './reasons.js';
export { MemoryStore, memoryStoreData, type MemoryStoreData } from './memory-store.js';
export { checkTopicName, checkFilter, parseShared, matches } from './topics.js';
export type * from './store.js';
export type * from './types.js';
