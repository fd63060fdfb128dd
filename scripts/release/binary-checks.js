// Small helpers for checking built binaries without the machine they are for.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

/** The sentinel Node's SEA support looks for; postject flips its `:0` to `:1` when it injects a blob. */
export const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

/** True when `cmd` runs (found on PATH). */
export function hasCommand(cmd, args = ['--version']) {
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  return !r.error;
}

/**
 * How to run a linux-arm64 program here: qemu-aarch64-static (Debian: qemu-user-static) and an arm64
 * C/C++ runtime for the dynamically linked Node (Debian: libc6-arm64-cross, libstdc++6-arm64-cross,
 * in /usr/aarch64-linux-gnu, or an arm64 multiarch install in /). `{ skip }` says why it cannot.
 */
export function findQemuAarch64() {
  const cmd = ['qemu-aarch64-static', 'qemu-aarch64'].find((c) => hasCommand(c));
  if (!cmd) return { skip: 'qemu-aarch64-static not found (apt-get install qemu-user-static)' };
  const prefix = process.env.QEMU_LD_PREFIX || ['/usr/aarch64-linux-gnu', '/'].find(
      (p) => existsSync(`${p}/lib/ld-linux-aarch64.so.1`) && (existsSync(`${p}/lib/libstdc++.so.6`) || existsSync(`${p}/lib/aarch64-linux-gnu/libstdc++.so.6`)),
    );
  if (!prefix) return { skip: 'no arm64 C/C++ runtime for qemu (apt-get install libc6-arm64-cross libstdc++6-arm64-cross)' };
  return { cmd, env: { QEMU_LD_PREFIX: prefix } };
}

/** The load commands of a thin 64-bit little-endian Mach-O file: cmd, and segname for segments. */
export function machoLoadCommands(data) {
  if (data.readUInt32LE(0) !== 0xfeedfacf) return [];
  const ncmds = data.readUInt32LE(16);
  const cmds = [];
  let at = 32;
  for (let i = 0; i < ncmds && at + 8 <= data.length; i++) {
    const cmd = data.readUInt32LE(at);
    const size = data.readUInt32LE(at + 4);
    // LC_SEGMENT_64: the segment name is 16 bytes after cmd and cmdsize.
    const segname = cmd === 0x19 ? data.toString('latin1', at + 8, at + 24).replace(/\0+$/, '') : undefined;
    cmds.push({ cmd, segname });
    if (size < 8) break;
    at += size;
  }
  return cmds;
}
