/**
 * The proxy's path rules (src/commands/proxy/paths.ts) for any path: the shortcut for plain paths decides as
 * the general normalisation does, so no spelling of the web UI gets through either way, and a plain path
 * is forwarded exactly as the caller wrote it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isUiPath, normalisedPath, tenantPath } from '../../src/commands/proxy/paths.js';

/** Path segments made of the characters a plain path may hold, with the UI's names likely to come up. */
const plainSegment = fc.oneof(fc.constantFrom('apps', 'APPS', 'Apps', 'inventory', 'managedObjects', 'c8y', 'tenant'), fc.stringMatching(/^[\w~!$&'()*+,=:@-]{1,8}$/));
/** Anything a request line may hold, leaning on what normalisation deals with. */
const anySegment = fc.oneof(plainSegment, fc.constantFrom('.', '..', '%2e%2e', '%2E', 'apps.', 'apps ', 'x.js', 'a;b', '%61pps', '\\apps', '', '%zz', 'x%2Fy'));

/** The thin-edge prefix, cut before anything else (a path may start with it by chance). */
const withoutPrefix = (path: string): string => path.replace(/^\/c8y(?=\/|$)/i, '') || '/';

describe('proxy paths', () => {
  it('a plain path is forwarded as written, and refused exactly when its normal form is the UI', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.array(plainSegment, { minLength: 0, maxLength: 5 }), fc.boolean(), fc.constantFrom('', '?pageSize=5', '?q=apps/x.js'), (tedge, segments, slash, query) => {
        fc.pre(segments[0]?.toLowerCase() !== 'c8y'); // the prefix is cut once, at the front
        const raw = `/${segments.join('/')}${slash && segments.length ? '/' : ''}`;
        const verdict = tenantPath(`${tedge ? '/c8y' : ''}${raw}${query}`, false);
        if (isUiPath(normalisedPath(raw)!)) expect(verdict).toEqual({ ok: false, reason: 'ui' });
        else expect(verdict).toEqual({ ok: true, path: `${raw}${query}` });
      }),
      { numRuns: 2000 },
    );
  });

  it('any path: refused as the UI exactly when its normal form is, whichever way it is decided', () => {
    fc.assert(
      fc.property(fc.array(anySegment, { minLength: 1, maxLength: 6 }), fc.boolean(), (segments, allowUi) => {
        const raw = `/${segments.join('/')}`;
        const normal = normalisedPath(withoutPrefix(raw));
        const verdict = tenantPath(raw, allowUi);
        if (normal === undefined) expect(verdict).toEqual({ ok: false, reason: 'encoding' });
        else if (!allowUi && isUiPath(normal)) expect(verdict).toEqual({ ok: false, reason: 'ui' });
        else expect(verdict.ok).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });
});
