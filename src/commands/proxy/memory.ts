/**
 * The proxy's memory while bodies stream through it. Every chunk read from a socket is a new buffer outside
 * V8's heap, freed only when a collection finds its small JavaScript object dead; V8 counts these buffers
 * lazily, so at a few hundred MB/s tens of megabytes of dead chunks piled up between its own collections
 * (`npm run bench:auth-proxy`, a 1 GB download after 200 connections: arrayBuffers in a 2-33 MB sawtooth,
 * RSS peaking at 145-148 MB; with this, 105-106 MB and a 1-3 MB spread). A young-generation collection
 * after every 2 MB streamed frees them: the chunks die young and few young objects live, so it costs a
 * fraction of a millisecond. `--expose-gc` set at run time makes `gc` available in a new context (as
 * watch does for its full collection).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Body bytes streamed between two collections: the most dead chunks held at once. */
export const COLLECT_EVERY_BYTES = 2 * 1024 * 1024;

/** A counter of streamed bytes that collects the young generation every `every` bytes. */
export function streamedCollector(every = COLLECT_EVERY_BYTES): (bytes: number) => void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (options: { type: 'minor' | 'major' }) => void;
  let since = 0;
  return (bytes) => {
    since += bytes;
    if (since < every) return;
    since = 0;
    gc({ type: 'minor' });
  };
}
