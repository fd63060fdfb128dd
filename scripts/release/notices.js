#!/usr/bin/env node
// dist/THIRD-PARTY-NOTICES.txt: the licences of the npm packages bundled into dist/c8ytoken.cjs (their
// MIT/ISC terms ask for the notice to travel with the code). Run by `npm pack` (prepack) after the build.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundledPackages, noticesText, root } from './sea-bundle.js';

const packages = await bundledPackages();
writeFileSync(join(root, 'dist', 'THIRD-PARTY-NOTICES.txt'), noticesText(packages));
console.log(`dist/THIRD-PARTY-NOTICES.txt: ${packages.length} packages`);
