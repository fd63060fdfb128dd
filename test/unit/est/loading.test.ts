/**
 * Start-up discipline for EST: fetch and inspect must start as fast as before, so nothing outside the EST
 * modules (and the local endpoint) imports them statically; commands load them with import().
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from '../../helpers/paths.js';

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

describe('EST modules load only where used', () => {
  it('no static import of src/core/est outside it and the emulator', () => {
    const offenders = sources(join(root, 'src'))
      .map((f) => relative(root, f).split('\\').join('/'))
      .filter((f) => !f.startsWith('src/core/est/') && !f.startsWith('src/emulator/'))
      .filter((f) => /^\s*import\s[^;]*from\s+['"][^'"]*\/est\/[^'"]+['"]/m.test(readFileSync(join(root, f), 'utf8').replace(/^\s*import\s+type\s[^;]*;/gm, '')));
    expect(offenders).toEqual([]);
  });

  it('the EST modules themselves never import node-forge or a terminal library', () => {
    for (const f of sources(join(root, 'src/core/est'))) {
      expect(readFileSync(f, 'utf8'), f).not.toMatch(/from ['"](node-forge|chalk|ora|commander|@commander-js)/);
    }
  });
});
