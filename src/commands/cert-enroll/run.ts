/** Runs `cert enroll`: the device id, the one-time password (file or variable, never argv), the output files; polls; reports. */
import { certEnrollCommand } from './enroll.js';
import { enrollmentJson, renderEnrollment } from './output.js';
import { describeError } from '../../output/messages.js';
import { startSpinner } from '../../output/terminal.js';
import { C8yError } from '../../core/errors.js';
import { longFlag, option } from '../../core/config/options.js';
import { givenPassword, type PasswordSources } from '../../core/credentials/passwords.js';
import { deviceIdOf } from '../../core/est/names.js';
import { formatDuration } from '../../core/time/duration.js';
import type { Run } from '../command.js';
import type { keys } from './keys.js';

export async function run(r: Run<(typeof keys)[number]>): Promise<number> {
  const settings = r.settings!;
  if (r.options.deviceId === undefined) throw new C8yError('USAGE', { detail: 'cert enroll needs --device-id ID: the device id registered in the tenant (the certificate CN).' });
  // Checked here, once: the request's CN and the Basic user name are this value from now on.
  const deviceId = deviceIdOf(r.options.deviceId);
  if (settings.pkcs11) throw new C8yError('USAGE', { option: '--key', reason: 'names a key in a PKCS#11 token, and cert enroll writes a new key file: give --key FILE' });
  if (!settings.cert || !settings.key) throw new C8yError('USAGE', { detail: 'cert enroll needs --cert FILE and --key FILE: where to write the new certificate and key.' });
  const oneTimePassword = await readOneTimePassword(r.options.oneTimePasswordFile, r.io().warn);
  const spinner = await startSpinner(`Enrolling ${deviceId}:`, r.cli.stderr, r.term);
  try {
    const io = r.io(spinner);
    const result = await certEnrollCommand(
      settings,
      { deviceId, oneTimePassword, certPath: settings.cert, keyPath: settings.key, retryEveryMs: r.options.retryEvery, maxWaitMs: r.options.maxWait },
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

/**
 * The one-time password from its file (one trailing newline dropped; a pipe too, waited for as long as a
 * request may take) or its variable; never from argv. An empty variable is no password.
 */
async function readOneTimePassword(sources: PasswordSources, warn: (m: string) => void): Promise<string> {
  const given = await givenPassword(sources.envValue === '' ? { ...sources, envValue: undefined } : sources, warn);
  if (given !== undefined) return given;
  throw new C8yError('USAGE', { detail: `cert enroll needs the one-time password: ${longFlag(option('oneTimePasswordFile'))} FILE, or ${sources.envName}.` });
}
