// The public surface of @latchkey/server.
export { loadConfig, validateConfig, ConfigError } from './config/load.js';
export type { LatchkeyConfig, ClientConfig, Strategy, SigningAlgorithm } from './config/types.js';
export { createServices, type LatchkeyServices, type CreateServicesOptions } from './latchkey.js';
export { buildHttpApp, type HttpAppOptions } from './http/app.js';
export { startServer, type RunningServer } from './server.js';
export type { Storage } from './ports/storage.js';
export type { GeoLocation, GeoResolver } from './ports/geo.js';
