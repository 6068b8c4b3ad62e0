// The whole schema, one file per area. drizzle-kit generates migrations/ from this module.
export * from './core.js';
export * from './operations.js';
export * from './alerts.js';
export * from './stats.js';
export * from './kill.js';
export * from './backups.js';
export * from './slack.js';
export * from './paper.js';
export * from './mode.js';
export * from './engine.js';
