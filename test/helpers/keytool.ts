import { spawnSync } from 'node:child_process';
import { onPath } from './tools.js';

/**
 * Options for keytool's short runs (listing a keystore): the JVM starts about twice as fast with its first
 * compiler only and the serial collector. Not for a file of 600,000 iterations (GnuTLS's): the first
 * compiler's code derives them three times slower.
 */
export const KEYTOOL_QUICK = ['-J-XX:TieredStopAtLevel=1', '-J-XX:+UseSerialGC'];

/**
 * Whether keytool is installed, found on PATH: `keytool -help` to ask would start a JVM (0.2 s CPU) per
 * test file. macOS has a /usr/bin/keytool that only says no Java is installed: there it is asked.
 */
export const hasKeytool = process.platform === 'darwin' ? spawnSync('keytool', ['-help'], { stdio: 'ignore' }).status === 0 : onPath('keytool');
