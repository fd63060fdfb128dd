/**
 * `c8ytoken completion SHELL`: the scripts hold every command, option and choice of the tables (rows
 * added later complete too), each is accepted by its shell when that shell is installed, bash and fish
 * really complete with them (bash through COMP_WORDS, fish through `complete -C`), and the hidden
 * `completion --profiles` that the scripts call lists profile names and never fails loudly.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS, type CommandSpec } from '../../src/cli/commands.js';
import { SHELLS, completionModel, completionScript, shortHelp, type Shell } from '../../src/commands/completion/script.js';
import { GLOBAL_OPTIONS, OPTIONS, longFlag, option } from '../../src/core/config/options.js';
import { tempDir } from '../helpers/cli.js';
import { runMain } from '../helpers/main.js';
import { bin } from '../helpers/paths.js';

const has = (cmd: string, args: string[]): boolean => !spawnSync(cmd, args, { stdio: 'ignore' }).error;
const SYNTAX: Record<Shell, { cmd: string; args: (file: string) => string[]; present: boolean }> = {
  bash: { cmd: 'bash', args: (f) => ['-n', f], present: has('bash', ['--version']) },
  zsh: { cmd: 'zsh', args: (f) => ['-n', f], present: has('zsh', ['--version']) },
  fish: { cmd: 'fish', args: (f) => ['-n', f], present: has('fish', ['--version']) },
  powershell: {
    cmd: 'pwsh',
    args: (f) => ['-NoProfile', '-NonInteractive', '-Command', `$e = $null; [void][System.Management.Automation.Language.Parser]::ParseFile('${f}', [ref]$null, [ref]$e); if ($e) { $e; exit 1 }`],
    present: has('pwsh', ['-Version']),
  },
};
const skipped = (shell: Shell): string => (SYNTAX[shell].present ? '' : ` (skipped: ${SYNTAX[shell].cmd} is not installed)`);

const scripts = {} as Record<Shell, string>;
const work = tempDir('c8ytoken-completion-');
// `c8ytoken` on PATH is the built bin, as after an install: the scripts call it back for profile names.
const binDir = join(work, 'bin');
const env = { ...process.env, PATH: `${binDir}${delimiter}${process.env.PATH ?? ''}`, HOME: work, XDG_CONFIG_HOME: join(work, '.config') };
const project = join(work, 'project');

beforeAll(async () => {
  for (const shell of SHELLS) {
    const run = await runMain(['completion', shell]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    scripts[shell] = run.stdout;
    writeFileSync(join(work, `c8ytoken.${shell}`), run.stdout);
  }
  mkdirSync(binDir);
  symlinkSync(bin, join(binDir, 'c8ytoken'));
  mkdirSync(project);
  writeFileSync(join(project, '.c8ytokenrc.yaml'), 'url: https://t1.example.com\nprofiles:\n  staging:\n    url: https://s.example.com\n  local:\n    url: https://localhost:8443\n');
  writeFileSync(join(work, 'other.json'), JSON.stringify({ profiles: { lab: {}, 'field test': {} } }));
});

describe('the completion scripts', () => {
  it('name every command, every visible option and every choice of the tables, and no hidden option', () => {
    for (const shell of SHELLS) {
      const text = scripts[shell];
      // A "cert renew" row is the sub-command renew of cert: each word is in the script.
      for (const c of COMMANDS) for (const word of c.name.split(' ')) expect(text, `${shell}: ${c.name}`).toContain(word);
      for (const key of [...new Set([...GLOBAL_OPTIONS, ...COMMANDS.flatMap((c) => c.options)])]) {
        const row = option(key);
        // A hidden option is not offered; the scripts call `completion --profiles` themselves.
        if (row.hidden) expect(text.replaceAll('completion --profiles', ''), `${shell}: hidden ${longFlag(row)}`).not.toMatch(new RegExp(`${longFlag(row)}\\b|-l ${longFlag(row).slice(2)}\\b`));
        else expect(text, `${shell}: ${longFlag(row)}`).toContain(shell === 'fish' ? `-l ${longFlag(row).slice(2)}` : longFlag(row));
        for (const choice of row.choices ?? []) expect(text, `${shell}: ${longFlag(row)} ${choice}`).toContain(choice);
      }
      expect(text).toContain('completion --profiles');
    }
    expect(OPTIONS.filter((r) => r.hidden).map((r) => r.key)).toEqual(['profiles']);
  });

  for (const shell of SHELLS) {
    it.skipIf(!SYNTAX[shell].present)(`${shell}: ${SYNTAX[shell].cmd} accepts the script${skipped(shell)}`, () => {
      const check = spawnSync(SYNTAX[shell].cmd, SYNTAX[shell].args(join(work, `c8ytoken.${shell}`)), { encoding: 'utf8' });
      expect(check.status, check.stderr + check.stdout).toBe(0);
    });
  }

  it('a usage error (exit 2) without a shell or with an unknown one; --profiles is not in the help', async () => {
    expect((await runMain(['completion'])).code).toBe(2);
    const unknown = await runMain(['completion', 'tcsh']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/bash, zsh, fish, powershell/);
    const help = await runMain(['completion', '--help']);
    expect(help.stdout).toMatch(/bash, zsh, fish or powershell/);
    expect(help.stdout).not.toContain('--profiles');
  });

  it('short descriptions: the first clause of the help, without parentheses, at most 60 characters', () => {
    expect(shortHelp('tenant URL; port 8443 unless the URL names one')).toBe('tenant URL');
    expect(shortHelp('token (default: the JWT), header (for curl -H @-), json, env (shell exports)')).toBe('token, header, json, env');
    for (const row of OPTIONS) expect(shortHelp(row.help).length).toBeLessThanOrEqual(60);
  });
});

/** What bash completes for the words, the last one being the word at the cursor. */
function bashComplete(script: string, words: string[], cwd = project): string[] {
  const program = `source ${JSON.stringify(script)}
COMP_WORDS=(${words.map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ')})
COMP_CWORD=$((\${#COMP_WORDS[@]} - 1))
COMP_LINE="\${COMP_WORDS[*]}"
COMP_POINT=\${#COMP_LINE}
_c8ytoken
printf '%s\\n' "\${COMPREPLY[@]}"`;
  const run = spawnSync('bash', ['--norc', '--noprofile', '-c', program], { cwd, env, encoding: 'utf8' });
  expect(run.status, run.stderr).toBe(0);
  return run.stdout.split('\n').filter(Boolean);
}

describe('bash completes with the script', () => {
  const bashScript = () => join(work, 'c8ytoken.bash');

  it('commands: c8ytoken fe<TAB> is fetch; c8ytoken <TAB> lists them all', () => {
    expect(bashComplete(bashScript(), ['c8ytoken', 'fe'])).toEqual(['fetch']);
    expect(bashComplete(bashScript(), ['c8ytoken', ''])).toEqual([...new Set(COMMANDS.map((c) => c.name.split(' ')[0]))]);
    expect(bashComplete(bashScript(), ['c8ytoken', 'cert', ''])).toEqual(COMMANDS.filter((c) => c.name.startsWith('cert ')).map((c) => c.name.split(' ')[1]));
  });

  it('choices: --format <TAB>, --format=j<TAB>, --format = <TAB>, --shell, --chain-header, --keystore-type, --purpose, completion <TAB>', () => {
    expect(bashComplete(bashScript(), ['c8ytoken', 'fetch', '--format', ''])).toEqual(['token', 'header', 'json', 'env']);
    expect(bashComplete(bashScript(), ['c8ytoken', 'fetch', '--format', 'j'])).toEqual(['json']);
    expect(bashComplete(bashScript(), ['c8ytoken', 'fetch', '--format=j'])).toEqual(['--format=json']);
    // COMP_WORDBREAKS makes "=" a word of its own.
    expect(bashComplete(bashScript(), ['c8ytoken', 'fetch', '--format', '=', ''])).toEqual(['token', 'header', 'json', 'env']);
    expect(bashComplete(bashScript(), ['c8ytoken', 'fetch', '--shell', 'p'])).toEqual(['powershell']);
    expect(bashComplete(bashScript(), ['c8ytoken', 'watch', '--chain-header', ''])).toEqual(['auto', 'none', 'full']);
    expect(bashComplete(bashScript(), ['c8ytoken', 'doctor', '--keystore-type', ''])).toEqual(['pkcs12', 'jks']);
    expect(bashComplete(bashScript(), ['c8ytoken', '--json', 'verify-chain', '--purpose', ''])).toEqual(['client', 'server', 'any']);
    expect(bashComplete(bashScript(), ['c8ytoken', 'completion', ''])).toEqual(['bash', 'zsh', 'fish', 'powershell']);
  });

  it("options: a command's own and the global ones, after other options and their values", () => {
    expect(bashComplete(bashScript(), ['c8ytoken', 'fetch', '--for'])).toEqual(['--format', '--force']);
    expect(bashComplete(bashScript(), ['c8ytoken', '-q', 'fetch', '-o', 'token', '--prof'])).toEqual(['--profile']);
    expect(bashComplete(bashScript(), ['c8ytoken', 'fetch', '--proxy-'])).toEqual(['--proxy-ca', '--proxy-password-file']);
    expect(bashComplete(bashScript(), ['c8ytoken', 'inspect', '--'])).toEqual(expect.arrayContaining(['--check', '--expires-within', '--json', '--help']));
    expect(bashComplete(bashScript(), ['c8ytoken', 'inspect', '--'])).not.toContain('--url');
    expect(bashComplete(bashScript(), ['c8ytoken', '--'])).toEqual(expect.arrayContaining(['--version', '--config', '--profile']));
  });

  it('files for path options and for inspect; nothing for free text', () => {
    writeFileSync(join(project, 'device.p12'), '');
    writeFileSync(join(project, 'device.pem'), '');
    expect(bashComplete(bashScript(), ['c8ytoken', 'fetch', '--keystore', 'dev'])).toEqual(['device.p12', 'device.pem']);
    expect(bashComplete(bashScript(), ['c8ytoken', 'fetch', '-o', 'device.p'])).toEqual(['device.p12', 'device.pem']);
    expect(bashComplete(bashScript(), ['c8ytoken', 'inspect', 'device.pe'])).toEqual(['device.pem']);
    expect(bashComplete(bashScript(), ['c8ytoken', 'fetch', '--url', ''])).toEqual([]);
  });

  it('profile names from the config file the search finds, or from the one --config names on the line', () => {
    expect(bashComplete(bashScript(), ['c8ytoken', 'fetch', '--profile', '']).sort()).toEqual(['local', 'staging']);
    expect(bashComplete(bashScript(), ['c8ytoken', '-p', 'st'])).toEqual(['staging']);
    expect(bashComplete(bashScript(), ['c8ytoken', '--config', join(work, 'other.json'), 'fetch', '-p', '']).sort()).toEqual(['field\\ test', 'lab']);
    expect(bashComplete(bashScript(), ['c8ytoken', 'fetch', '--profile', ''], work)).toEqual([]);
  });

  it('after -- of exec and watch --exec: command names', () => {
    expect(bashComplete(bashScript(), ['c8ytoken', 'exec', '--', 'bas'])).toContain('bash');
    expect(bashComplete(bashScript(), ['c8ytoken', 'watch', '-o', 'token', '--exec', '--', 'bas'])).toContain('bash');
  });

  it('rows added to the tables complete too: a "cert renew" row is the sub-command renew of cert', () => {
    const rows: CommandSpec[] = [
      ...COMMANDS.filter((c) => !c.name.startsWith('cert ')),
      { name: 'cert renew', summary: 'renew', examples: [], options: ['cert', 'key', 'chainHeader'], load: () => Promise.reject(new Error('not run')) },
      { name: 'cert needs-renewal', summary: 'check', examples: [], options: ['cert'], load: () => Promise.reject(new Error('not run')) },
    ];
    const file = join(work, 'cert.bash');
    writeFileSync(file, completionScript('bash', completionModel(rows, '0.0.0', { cert: 'the device certificate' })));
    expect(bashComplete(file, ['c8ytoken', 'ce'])).toEqual(['cert']);
    expect(bashComplete(file, ['c8ytoken', 'cert', ''])).toEqual(['renew', 'needs-renewal']);
    expect(bashComplete(file, ['c8ytoken', 'cert', 'renew', '--chain-header', ''])).toEqual(['auto', 'none', 'full']);
    expect(bashComplete(file, ['c8ytoken', 'cert', 'needs-renewal', '--ch'])).toEqual([]);
    for (const shell of SHELLS) expect(completionScript(shell, completionModel(rows, '0.0.0'))).toContain('needs-renewal');
  });
});

describe.skipIf(!SYNTAX.fish.present)(`fish completes with the script${skipped('fish')}`, () => {
  const fishComplete = (line: string): string[] => {
    const run = spawnSync('fish', ['--no-config', '-c', `source ${join(work, 'c8ytoken.fish')}; complete -C ${JSON.stringify(line)}`], { cwd: project, env, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    return run.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split('\t')[0]!);
  };

  it('commands, choices, options, profile names', () => {
    expect(fishComplete('c8ytoken fe')).toEqual(['fetch']);
    expect(fishComplete('c8ytoken fetch --format ').sort()).toEqual(['env', 'header', 'json', 'token']);
    expect(fishComplete('c8ytoken fetch --for').sort()).toEqual(['--force', '--format']);
    expect(fishComplete('c8ytoken completion ').sort()).toEqual(['bash', 'fish', 'powershell', 'zsh']);
    expect(fishComplete('c8ytoken fetch -p ').sort()).toEqual(['local', 'staging']);
    expect(fishComplete('c8ytoken inspect --').sort()).not.toContain('--url');
  });
});

describe('completion --profiles, which the scripts call', () => {
  it('prints the profile names of the config file the search finds, one a line', async () => {
    const run = await runMain(['completion', '--profiles'], { cwd: project });
    expect(run).toMatchObject({ code: 0, stdout: 'staging\nlocal\n', stderr: '' });
  });

  it('of the file --config or C8YTOKEN_CONFIG names', async () => {
    expect((await runMain(['--config', join(work, 'other.json'), 'completion', '--profiles'], { cwd: project })).stdout).toBe('lab\nfield test\n');
    expect((await runMain(['completion', '--profiles'], { cwd: project, env: { C8YTOKEN_CONFIG: join(work, 'other.json') } })).stdout).toBe('lab\nfield test\n');
  });

  it('prints nothing and exits 0 without a config file, with a broken one, a JavaScript one, or profiles that are not an object', async () => {
    const cases: [string, string][] = [
      ['.c8ytokenrc.yaml', 'profiles: [a, b'],
      ['.c8ytokenrc.json', '{"profiles": ["a"]}'],
      ['.c8ytokenrc.js', 'module.exports = {}'],
    ];
    expect(await runMain(['completion', '--profiles'])).toMatchObject({ code: 0, stdout: '', stderr: '' });
    for (const [name, text] of cases) {
      const dir = tempDir('c8ytoken-profiles-');
      writeFileSync(join(dir, name), text);
      expect(await runMain(['completion', '--profiles'], { cwd: dir }), name).toMatchObject({ code: 0, stdout: '', stderr: '' });
    }
    expect(await runMain(['completion', '--profiles'], { env: { C8YTOKEN_CONFIG: join(work, 'missing.yaml') } })).toMatchObject({ code: 0, stdout: '', stderr: '' });
  });
});

// Profile names a config file may hold, each one an attempt to run something when completed.
const HOSTILE = [
  'x;Start-Process calc',
  'x;touch CANARY',
  '$(touch CANARY)',
  '`touch CANARY`',
  "it's",
  '‘x’',
  'a b',
  'x|touch CANARY',
  'x&touch',
  '@(calc)',
  '-x',
  'x#y',
  '"x"',
  'x,y',
  '(calc)',
  '{calc}',
  'x>CANARY',
];

describe('hostile profile names are completed as one quoted argument, never run', () => {
  const dir = join(work, 'hostile');
  beforeAll(() => {
    mkdirSync(dir);
    writeFileSync(join(dir, '.c8ytokenrc.json'), JSON.stringify({ profiles: Object.fromEntries(HOSTILE.map((n) => [n, {}])) }));
  });

  it('bash: each completion, read back by bash, is the name; nothing ran', () => {
    const replies = bashComplete(join(work, 'c8ytoken.bash'), ['c8ytoken', 'fetch', '-p', ''], dir);
    expect(replies).toHaveLength(HOSTILE.length);
    // What the shell does with an inserted completion: parse it as words.
    const run = spawnSync('bash', ['--norc', '--noprofile', '-c', 'for r in "$@"; do eval "set -- $r"; printf "%s\\t%s\\n" "$#" "$1"; done', 'bash', ...replies], { cwd: dir, encoding: 'utf8' });
    const read = run.stdout.split('\n').filter(Boolean);
    expect(read.map((l) => l.split('\t')[0])).toEqual(HOSTILE.map(() => '1'));
    expect(read.map((l) => l.split('\t')[1]).sort()).toEqual([...HOSTILE].sort());
    expect(spawnSync('ls', [dir], { encoding: 'utf8' }).stdout).not.toContain('CANARY');
  });

  it('PowerShell: profile names go through the quoting block, which doubles every kind of single quote', () => {
    const text = scripts.powershell;
    expect(text).toContain(`$quote = { param($s) if ($s -match '^\\w[\\w.-]*$') { $s } else { "'" + ($s -replace "['\\u2018-\\u201B]", '$0$0') + "'" } }`);
    // No completion of a profile name inserts the name itself.
    expect(text).toContain("CompletionResult]::new((& $quote $name), $name, 'ParameterValue', $name)");
    expect(text).not.toContain("CompletionResult]::new($name, $name, 'ParameterValue'");
  });

  it.skipIf(!SYNTAX.powershell.present)(`PowerShell: each completion, parsed by PowerShell, is one string argument equal to the name${skipped('powershell')}`, () => {
    const program = `Invoke-Expression (Get-Content -Raw ${JSON.stringify(join(work, 'c8ytoken.powershell'))})
$line = 'c8ytoken fetch -p '
$r = TabExpansion2 -inputScript $line -cursorColumn $line.Length
$out = foreach ($m in $r.CompletionMatches) {
  $t = $null; $e = $null
  $ast = [System.Management.Automation.Language.Parser]::ParseInput("c8ytoken -p $($m.CompletionText)", [ref]$t, [ref]$e)
  $els = $ast.EndBlock.Statements[0].PipelineElements[0].CommandElements
  [pscustomobject]@{ count = $els.Count; kind = $els[2].GetType().Name; value = $els[2].Value; errors = $e.Count }
}
ConvertTo-Json -Compress @($out)`;
    const run = spawnSync('pwsh', ['-NoProfile', '-NonInteractive', '-Command', program], { cwd: dir, env, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const parsed = JSON.parse(run.stdout) as { count: number; kind: string; value: string; errors: number }[];
    expect(parsed).toHaveLength(HOSTILE.length);
    for (const p of parsed) expect(p).toMatchObject({ count: 3, kind: 'StringConstantExpressionAst', errors: 0 });
    expect(parsed.map((p) => p.value).sort()).toEqual([...HOSTILE].sort());
    expect(spawnSync('ls', [dir], { encoding: 'utf8' }).stdout).not.toContain('CANARY');
  });
});
