/** Runs `cert enroll`: the device id, the one-time password (file or variable, never argv), the output files; polls; reports. */
import { resolve } from 'node:path';
import { certEnrollCommand } from './enroll.js';
import { enrollmentJson, renderEnrollment } from './output.js';
import { describeError } from '../../output/messages.js';
import { startSpinner } from '../../output/terminal.js';
import { C8yError } from '../../core/errors.js';
import { LIMITS } from '../../core/limits.js';
import { longFlag, option } from '../../core/config/options.js';
import { readFileOrPipe } from '../../core/files/read.js';
import { checkCommonName } from '../../core/est/csr.js';
import { formatDuration } from '../../core/time/duration.js';
import { msOf, textOf, type Run } from '../command.js';

export async function run(r: Run): Promise<number> {
  const settings = r.settings!;
  const deviceId = textOf(r, 'deviceId');
  if (deviceId === undefined) throw new C8yError('USAGE', { detail: 'cert enroll needs --device-id ID: the device id registered in the tenant (the certificate CN).' });
  checkCommonName(deviceId, '--device-id');
  if (!settings.cert || !settings.key) throw new C8yError('USAGE', { detail: 'cert enroll needs --cert FILE and --key FILE: where to write the new certificate and key.' });
  const oneTimePassword = await readOneTimePassword(r);
  const spinner = await startSpinner(`Enrolling ${deviceId}:`, r.cli.stderr, r.term);
  try {
    const io = r.io(spinner);
    const result = await certEnrollCommand(
      settings,
      { deviceId, oneTimePassword, certPath: settings.cert, keyPath: settings.key, retryEveryMs: msOf(r, 'retryEvery')!, maxWaitMs: msOf(r, 'maxWait')! },
      {
        ...io,
        onRetry: ({ attempt, error, nextInMs }) => {
          if (r.term.quiet || r.term.json) return;
          spinner.stop();
          r.cli.stderr.write(`c8ytoken: attempt ${attempt}: not accepted yet (${error.code}): ${describeError(error).message} Asking again in ${formatDuration(nextInMs)}.\n`);
        },
      },
    );
    spinner.stop();
    if (r.term.json) r.cli.stdout.write(`${JSON.stringify(enrollmentJson(result), null, 2)}\n`);
    else if (!r.term.quiet) r.cli.stdout.write(renderEnrollment(result, io.now()));
    return 0;
  } finally {
    spinner.stop();
  }
}

/** The one-time password from its file (one trailing newline dropped) or its variable; never from argv. */
async function readOneTimePassword(r: Run): Promise<string> {
  const row = option('oneTimePasswordFile');
  const file = r.flags.oneTimePasswordFile;
  if (typeof file === 'string' && file.trim() !== '') {
    // A pipe too (<(pass show otp)), waited for as long as a request may take.
    const text = (await readFileOrPipe(resolve(r.cli.cwd, file), 'one-time password', LIMITS.passwordBytes, r.settings!.timeoutMs)).data.toString('utf8');
    return text.replace(/\r?\n$/, '');
  }
  const fromEnv = row.env?.map((name) => r.cli.env[name]).find((v) => v !== undefined && v !== '');
  if (fromEnv !== undefined) return fromEnv;
  throw new C8yError('USAGE', { detail: `cert enroll needs the one-time password: ${longFlag(row)} FILE, or ${row.env![0]}.` });
}
