/**
 * `c8ytoken watch`: keeps a token file fresh until stopped (core/token/keeper.ts: the half-life schedule,
 * retries, the file, the hook), reporting each step as an event for the renderer.
 */
export { keepTokenFresh as watchCommand, type KeeperOptions as WatchOptions, type TokenEvent as WatchEvent, type KeeperIo as WatchIo } from '../core/token/keeper.js';
