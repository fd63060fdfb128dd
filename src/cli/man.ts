/**
 * The man page, man/c8ytoken.1, made from the command table, the option table and the help texts of
 * src/cli.ts, with the examples of each command's page in docs/commands/ where they add to the table's
 * (and their comments as descriptions). `npm run man` writes it; a test makes it again in memory and compares, so
 * the committed page cannot drift from the tables. Not part of the program's bundle.
 */
import { DESCRIPTION, EXIT_CODES, SETTINGS_NOTE } from '../cli.js';
import { CONNECTION_OPTIONS, GLOBAL_OPTIONS, OPTIONS, configKeys, listedOptions, longFlag, option, type OptionRow } from '../core/config/options.js';
import { MODULE, SEARCH_PLACES } from '../core/config/file.js';
import type { CommandSpec } from '../commands/command.js';
import { helpText } from './commander.js';

export interface ManInput {
  commands: readonly CommandSpec[];
  version: string;
  /** The command pages' text (docs/commands/*.md, one after another): their examples and comments. */
  pages?: string;
}

/** Text for a roff line: backslashes, hyphens (minus signs, so that options copy as typed), control characters at the start. */
export function roff(text: string): string {
  return text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .replace(/^([.'])/gm, '\\&$1');
}

const bold = (text: string): string => `\\fB${roff(text)}\\fR`;
const italic = (text: string): string => `\\fI${roff(text)}\\fR`;

/** '-o, --output <file>' as \fB\-o\fR, \fB\-\-output\fR \fIfile\fR. */
function flagsText(row: Pick<OptionRow, 'flags'>): string {
  return row.flags.replace(/<([^>]+)>|([^<]+)/g, (_m, value: string | undefined, flags: string | undefined) =>
    value !== undefined
      ? italic(value)
      : flags!
          .split(/(,\s*|\s+)/)
          .map((part) => (/^-/.test(part) ? bold(part) : roff(part)))
          .join(''),
  );
}

function optionItems(rows: readonly OptionRow[], overrides: Partial<Record<string, string>> = {}): string[] {
  return rows.flatMap((row) => ['.TP', flagsText(row), roff(helpText(row, overrides[row.key]))]);
}

const visible = (keys: readonly string[]): OptionRow[] => keys.map((k) => option(k as never)).filter((r) => r.hidden !== true);

export interface PageExample {
  /** The command as written (continuation lines kept). */
  text: string;
  /** Its comment in the page, if any. */
  comment?: string;
}

/** Whitespace-insensitive form of an example, continuation lines joined, for comparison. */
const normalized = (text: string): string => text.replace(/\\\n/g, ' ').replace(/\s+/g, ' ').trim();

/**
 * The examples of each command's section (from a heading `# \`c8ytoken NAME ...\`` to the next such heading,
 * at any level up to three; other headings do not end it), by command name.
 */
export function pageExamples(pages: string, names: readonly string[]): Map<string, PageExample[]> {
  const out = new Map<string, PageExample[]>();
  const sections = pages.split(/^(?=#{1,3} `c8ytoken )/m);
  const byLength = [...names].sort((a, b) => b.length - a.length);
  for (const section of sections) {
    const heading = /^#{1,3} `c8ytoken ([^`]*)`/.exec(section)?.[1];
    const name = heading === undefined ? undefined : byLength.find((n) => heading === n || heading.startsWith(`${n} `));
    if (!name) continue;
    const examples: PageExample[] = [];
    for (const block of section.matchAll(/^```(?:sh|bash|shell|console)\n([\s\S]*?)^```/gm)) {
      let comment: string[] = [];
      const lines = block[1]!.split('\n');
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i]!;
        if (/^\s*#/.test(line)) {
          comment.push(line.replace(/^\s*#\s?/, ''));
          continue;
        }
        if (!line.trim()) {
          comment = [];
          continue;
        }
        let text = line;
        while (text.endsWith('\\') && i + 1 < lines.length) text += `\n${lines[++i]!}`;
        // A comment at the end of the line (two spaces, then #) describes it too.
        const trailing = /\s{2,}#\s?(.*)$/.exec(text);
        if (trailing) text = text.slice(0, trailing.index).trimEnd();
        const words = [...comment, ...(trailing ? [trailing[1]!] : [])].join(' ').trim();
        examples.push(words ? { text, comment: words } : { text });
        comment = [];
      }
    }
    out.set(name, [...(out.get(name) ?? []), ...examples]);
  }
  return out;
}

/** A command's examples: the table's, with the page's comment where it has the same one, then the page's others. */
function examplesOf(spec: CommandSpec, fromPages: PageExample[]): PageExample[] {
  const fromTable = spec.examples.map((text): PageExample => {
    const same = fromPages.find((r) => normalized(r.text) === normalized(text));
    return same?.comment ? { text, comment: same.comment } : { text };
  });
  const known = new Set(spec.examples.map(normalized));
  return [...fromTable, ...fromPages.filter((r) => !known.has(normalized(r.text)))];
}

function exampleLines(examples: PageExample[]): string[] {
  return examples.flatMap((e) => ['.PP', ...(e.comment ? [roff(e.comment), '.PP'] : []), '.RS 4', '.nf', roff(e.text), '.fi', '.RE']);
}

/** The synopsis line of a command: c8ytoken NAME [options] ARGS. */
function usage(spec: CommandSpec): string {
  return `${bold(`c8ytoken ${spec.name}`)} [${italic('options')}]${spec.args ? ` ${roff(spec.args[0])}` : ''}`;
}

const sentence = (text: string): string => `${text.charAt(0).toUpperCase()}${text.slice(1)}${/[.!?]$/.test(text) ? '' : '.'}`;

/** The man page as roff text. */
export function renderManPage(input: ManInput): string {
  const { commands, version } = input;
  const fromPages = input.pages
    ? pageExamples(
        input.pages,
        commands.map((c) => c.name),
      )
    : new Map<string, PageExample[]>();
  const connection = new Set<string>(CONNECTION_OPTIONS);
  const out: string[] = [
    `.\\" Made by npm run man (scripts/man.js) from the command and option tables: do not edit.`,
    `.TH C8YTOKEN 1 "" "c8ytoken ${roff(version)}" "User Commands"`,
    '.SH NAME',
    `c8ytoken \\- ${roff(DESCRIPTION.replace(/^Get/, 'get').replace(/\.$/, ''))}`,
    '.SH SYNOPSIS',
    ...commands.flatMap((c, i) => [...(i ? ['.br'] : []), usage(c)]),
    '.br',
    `${bold('c8ytoken')} [${bold('--version')} | ${bold('--help')}]`,
    '.SH DESCRIPTION',
    roff(DESCRIPTION),
    '.PP',
    `${roff('Every command takes the global options; ')}${bold('c8ytoken')} ${italic('command')} ${bold('--help')} ${roff('shows the options and examples of a command.')}`,
    '.SH COMMANDS',
  ];
  for (const spec of commands) {
    out.push(`.SS ${usage(spec)}`, roff(sentence(spec.summary)));
    if (spec.args) out.push('.PP', `${italic(spec.args[0].replace(/[[\]<>.]/g, ''))}: ${roff(spec.args[1])}.`);
    const rows = visible(listedOptions(spec.name, spec.options));
    // A connection option that means something else for this command is described with the command.
    const overrides: Partial<Record<string, string>> = spec.optionHelp ?? {};
    const shared = rows.filter((r) => connection.has(r.key) && !overrides[r.key]);
    const own = rows.filter((r) => !shared.includes(r));
    if (shared.length) {
      out.push('.PP', `${roff('Connection options (see CONNECTION OPTIONS): ')}${shared.map((r) => bold(longFlag(r))).join(', ')}.`);
    }
    if (own.length) out.push('.PP', 'Options:', ...optionItems(own, overrides));
    if (spec.notes) out.push('.PP', roff(spec.notes));
    out.push('.PP', 'Examples:', ...exampleLines(examplesOf(spec, fromPages.get(spec.name) ?? [])));
  }
  out.push(
    '.SH GLOBAL OPTIONS',
    ...optionItems(visible(GLOBAL_OPTIONS)),
    '.TP',
    bold('--version'),
    'print the version',
    '.TP',
    `${bold('-h')}, ${bold('--help')}`,
    'show help, with examples, for the program or a command',
    '.SH CONNECTION OPTIONS',
    roff('The device identity (PEM files or a keystore), the trust and the connection, for every command that reads the identity or talks to the platform.'),
    ...optionItems(visible(CONNECTION_OPTIONS)),
    '.SH CONFIGURATION',
    roff(SETTINGS_NOTE.replace(/\n/g, ' ')),
    '.PP',
    roff(
      `The config file is looked for from the working directory upwards (${SEARCH_PLACES.map((p) => (p === 'package.json' ? `the "${MODULE}" key of package.json` : p)).join(', ')}), then in the user's config folder; --config FILE (or C8YTOKEN_CONFIG) names one instead. Relative paths in it are relative to the file. JSON or YAML only: a JavaScript config file is refused. Profiles: a "profiles" object of named sections, chosen with --profile NAME.`,
    ),
    '.PP',
    'Keys:',
    ...configKeys().flatMap(({ key, row, as }) => [
      '.TP',
      bold(key),
      roff(as === 'password' ? `the password itself, instead of ${longFlag(row)} (a warning when the config file is readable by group or others)` : `as ${longFlag(row)}`),
    ]),
    '.SH ENVIRONMENT',
    ...OPTIONS.filter((r) => r.hidden !== true).flatMap((row) =>
      (row.env ?? []).flatMap((name) => [
        '.TP',
        bold(name),
        roff(row.password ? `the password itself, instead of ${longFlag(row)}` : name === 'NO_COLOR' ? 'set (to anything): no colours' : `as ${longFlag(row)}`),
      ]),
    ),
    '.SH FILES',
    '.TP',
    bold('.c8ytokenrc .c8ytokenrc.json .c8ytokenrc.yaml .c8ytokenrc.yml'),
    roff('in the working directory or a folder above it: the config file'),
    '.TP',
    bold(`~/.config/${MODULE}/config.yaml`),
    roff(`(also config, config.json, config.yml; $XDG_CONFIG_HOME/${MODULE}/ when set; ~/Library/Preferences/${MODULE}/ on macOS, %APPDATA%\\${MODULE}\\Config\\ on Windows): the user's config file`),
    '.SH EXIT STATUS',
    ...EXIT_CODES.replace(/^Exit codes:\s*/, '')
      .replace(/\.$/, '')
      .split(/,\s*/)
      .flatMap((item) => {
        const [, code, meaning] = /^(\S+)\s+(.*)$/s.exec(item.replace(/\s+/g, ' '))!;
        return ['.TP', bold(code!), roff(meaning!)];
      }),
    '.SH SEE ALSO',
    `${bold('curl')}(1), ${bold('openssl')}(1), ${bold('keytool')}(1), ${bold('systemd.service')}(5)`,
  );
  return `${out.join('\n')}\n`;
}
