/**
 * Start-up discipline for EST: fetch, inspect and watch must start as fast as before, so nothing outside
 * the EST modules, the cert commands (themselves loaded only through the command table's import()) and
 * the local endpoint imports them statically; watch loads the renewal with import() when one is due.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from '../../helpers/paths.js';

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

describe('EST modules load only where used', () => {
  const CERT_COMMAND = /^src\/commands\/cert-[\w-]+\/[\w-]+\.ts$/;
  const staticImports = (pattern: RegExp) =>
    sources(join(root, 'src'))
      .map((f) => relative(root, f).split('\\').join('/'))
      .filter((f) => !f.startsWith('src/core/est/') && !CERT_COMMAND.test(f))
      .filter((f) => pattern.test(readFileSync(join(root, f), 'utf8').replace(/^\s*import\s+type\s[^;]*;/gm, '')));

  it('no static import of src/core/est outside itand the cert commands', () => {
    expect(staticImports(/^\s*import\s[^;]*from\s+['"][^'"]*\/est\/[^'"]+['"]/m)).toEqual([]);
  });

  it('no static import of the cert commands elsewhere (watch loads them when a renewal is due)', () => {
    expect(staticImports(/^\s*import\s[^;]*from\s+['"][^'"]*\/(cert-[\w-]+\/(?!spec\.js)[\w-]+|est\/device)\.js['"]/m)).toEqual([]);
  });
});
