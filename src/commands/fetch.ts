/** `c8ytoken fetch`: a token from the cache file or the platform (core/token/obtain.ts), as data for the renderer. */
export { obtainToken as fetchCommand, type ObtainOptions as FetchOptions, type ObtainedToken as FetchResult, type TokenState } from '../core/token/obtain.js';
