/**
 * Shell completion scripts made from the command table and the option table: every command (a row named
 * "cert renew" is the sub-command renew of cert), its options and the global ones, the choices of choice
 * options, files for path options, commands after `--`, and profile names, which the scripts ask
 * `c8ytoken completion --profiles` for when --profile is completed. Everything else is static: a TAB
 * starts no process (docs/adr/0005-completion.md says why this is ours and not a library's).
 */
import { GLOBAL_OPTIONS, listedOptions, option, type OptionKey, type OptionRow } from '../../core/config/options.js';
import type { CommandSpec } from '../command.js';

export const SHELLS = ['bash', 'zsh', 'fish', 'powershell'] as const;
export type Shell = (typeof SHELLS)[number];

/** What an option's value completes to: a file, a profile name, free text (nothing), or one of these words; 'none' for a switch. */
export type ValueKind = 'none' | 'file' | 'profile' | 'text' | readonly string[];

export interface CompletionOption {
  /** '-o', '--output'. */
  names: readonly string[];
  /** Commander's value name ('file' for '<file>'), for the shells that show one. */
  valueName: string;
  help: string;
  value: ValueKind;
}

export interface CompletionCommand {
  /** The words that name it after the program: '' for the program itself, 'fetch', 'cert renew'. */
  path: string;
  name: string;
  help: string;
  /** Everything it accepts: its own options, the global ones, --help (and --version on the program). */
  options: readonly CompletionOption[];
  /** What its arguments are. */
  args: { kind: 'none' } | { kind: 'files' | 'commands'; name: string; optional: boolean; variadic: boolean } | { kind: 'words'; name: string; words: readonly string[]; optional: boolean };
  commands: readonly CompletionCommand[];
}

export interface CompletionModel {
  program: string;
  version: string;
  root: CompletionCommand;
}

const HELP: CompletionOption = { names: ['-h', '--help'], valueName: '', help: 'show help', value: 'none' };
const VERSION: CompletionOption = { names: ['--version'], valueName: '', help: 'print the version', value: 'none' };

/** The first clause of an option's help, without parentheses: what a completion menu has room for. */
export function shortHelp(help: string): string {
  const clause = help
    .replace(/\s*\([^)]*\)/g, '')
    .split('; ')[0]!
    .trim();
  if (clause.length <= 60) return clause;
  const cut = clause.slice(0, 57);
  return `${cut.slice(0, cut.lastIndexOf(' '))}...`;
}

/** A row as the completion sees it. */
export function completionOption(row: OptionRow): CompletionOption {
  const names = row.flags.split(/,\s*/).map((f) => f.split(' ')[0]!);
  const valueName = /<([^>]+)>/.exec(row.flags)?.[1] ?? '';
  let value: ValueKind = 'none';
  if (valueName) {
    if (row.kind === 'choice' && row.choices) value = row.choices;
    else if (row.kind === 'path' || row.kind === 'password') value = 'file';
    else if (row.key === 'profile') value = 'profile';
    else value = 'text';
  }
  return { names, valueName, help: shortHelp(row.help), value };
}

function options(keys: readonly OptionKey[]): CompletionOption[] {
  return keys
    .map(option)
    .filter((row) => row.hidden !== true)
    .map(completionOption);
}

function argsOf(spec: CommandSpec): CompletionCommand['args'] {
  if (!spec.args) return { kind: 'none' };
  const syntax = spec.args[0];
  const name = syntax.replace(/[[\]<>.]/g, '');
  const optional = syntax.startsWith('[');
  const variadic = syntax.includes('...');
  const values = spec.argValues ?? 'files';
  if (typeof values === 'string') return { kind: values, name, optional, variadic };
  return { kind: 'words', name, words: values, optional };
}

/**
 * The completion model of a command table. Rows named "group sub" become sub-commands of a group;
 * `groups` describes the groups (else the group lists its sub-commands).
 */
export function completionModel(commands: readonly CommandSpec[], version: string, groups: Readonly<Record<string, string>> = {}): CompletionModel {
  const global = options(GLOBAL_OPTIONS);
  const root: CompletionCommand & { commands: CompletionCommand[] } = { path: '', name: 'c8ytoken', help: '', options: [...global, HELP, VERSION], args: { kind: 'none' }, commands: [] };
  const nodes = new Map<string, CompletionCommand & { commands: CompletionCommand[] }>([['', root]]);
  const nodeFor = (path: string): CompletionCommand & { commands: CompletionCommand[] } => {
    let node = nodes.get(path);
    if (!node) {
      const words = path.split(' ');
      const name = words.at(-1)!;
      const parent = nodeFor(words.slice(0, -1).join(' '));
      node = { path, name, help: groups[path] ?? '', options: [HELP, ...global], args: { kind: 'none' }, commands: [] };
      parent.commands.push(node);
      nodes.set(path, node);
    }
    return node;
  };
  for (const spec of commands) {
    const node = nodeFor(spec.name.trim().replace(/\s+/g, ' '));
    node.help = spec.summary;
    node.options = [...options(listedOptions(spec.name, spec.options)), HELP, ...global];
    node.args = argsOf(spec);
  }
  for (const node of nodes.values()) if (!node.help && node.commands.length) node.help = `${node.name} commands: ${node.commands.map((c) => c.name).join(', ')}`;
  return { program: 'c8ytoken', version, root };
}

/** Every command of the model, the program first, parents before their sub-commands. */
export function allCommands(model: CompletionModel): CompletionCommand[] {
  const out: CompletionCommand[] = [];
  const walk = (c: CompletionCommand): void => {
    out.push(c);
    c.commands.forEach(walk);
  };
  walk(model.root);
  return out;
}

/** Every option of the model once, by its names. */
function allOptions(model: CompletionModel): CompletionOption[] {
  const seen = new Map<string, CompletionOption>();
  for (const c of allCommands(model)) for (const o of c.options) seen.set(o.names.join(' '), o);
  return [...seen.values()];
}

/** The completion script for a shell. */
export function completionScript(shell: Shell, model: CompletionModel): string {
  for (const word of [...allCommands(model).map((c) => c.name), ...allOptions(model).flatMap((o) => [...o.names, ...(Array.isArray(o.value) ? (o.value as readonly string[]) : [])])]) {
    // Names and choices are written into the scripts unquoted in places: they must be plain words.
    if (!/^[\w][\w.@+-]*$|^--?[\w][\w-]*$/.test(word)) throw new Error(`not a plain word for a completion script: ${JSON.stringify(word)}`);
  }
  switch (shell) {
    case 'bash':
      return bash(model);
    case 'zsh':
      return zsh(model);
    case 'fish':
      return fish(model);
    case 'powershell':
      return powershell(model);
  }
}

const header = (model: CompletionModel, shell: Shell, comment: string): string =>
  [
    `${comment} ${shell} completion for ${model.program} ${model.version}, made by \`${model.program} completion ${shell}\` from its command and option tables:`,
    `${comment} make it again after an upgrade. \`${model.program} completion --help\` says where to put it.`,
  ].join('\n');

/** A value kind as the bash and PowerShell scripts' tables write it. */
function kindWord(value: ValueKind): string {
  return typeof value === 'string' ? value : `choice ${value.join(' ')}`;
}

function argsWord(args: CompletionCommand['args']): string {
  return args.kind === 'words' ? `choice ${args.words.join(' ')}` : args.kind;
}

const valueOptions = (model: CompletionModel): CompletionOption[] => allOptions(model).filter((o) => o.value !== 'none');

function bash(model: CompletionModel): string {
  const commands = allCommands(model);
  const caseLines = (entries: [string, string][]): string => entries.map(([k, v]) => `    ${k === '' ? "''" : `'${k}'`}) REPLY='${v}' ;;`).join('\n');
  const byKind = new Map<string, string[]>();
  for (const o of valueOptions(model)) byKind.set(kindWord(o.value), [...(byKind.get(kindWord(o.value)) ?? []), ...o.names]);
  const argKinds = new Map<string, string[]>();
  for (const c of commands) if (c.path && c.args.kind !== 'none') argKinds.set(argsWord(c.args), [...(argKinds.get(argsWord(c.args)) ?? []), `'${c.path}'`]);
  return `${header(model, 'bash', '#')}
# Install: ${model.program} completion bash > ~/.local/share/bash-completion/completions/${model.program}
# (or: source <(${model.program} completion bash) in ~/.bashrc). Needs bash 4.1 or later; bash-completion is optional.

# The sub-commands of a command ('' is ${model.program} itself).
__${model.program}_commands() {
  case $1 in
${caseLines(commands.filter((c) => c.commands.length).map((c) => [c.path, c.commands.map((s) => s.name).join(' ')]))}
    *) REPLY='' ;;
  esac
}

# The options of a command.
__${model.program}_options() {
  case $1 in
${caseLines(commands.map((c) => [c.path, c.options.flatMap((o) => o.names).join(' ')]))}
    *) REPLY='' ;;
  esac
}

# What an option's value is: file, profile, text, or "choice WORDS"; nothing for an option without one.
__${model.program}_value() {
  case $1 in
${[...byKind].map(([kind, names]) => `    ${names.join('|')}) REPLY='${kind}' ;;`).join('\n')}
    *) REPLY='' ;;
  esac
}

# What a command's arguments are: files, commands (after --), "choice WORDS", or none.
__${model.program}_args() {
  case $1 in
${[...argKinds].map(([kind, paths]) => `    ${paths.join('|')}) REPLY='${kind}' ;;`).join('\n')}
    *) REPLY=none ;;
  esac
}

# Adds the words of $1 that start with $cur (no expansion of any kind: they are data).
__${model.program}_words() {
  local -a words
  local word
  read -ra words <<< "$1"
  for word in "\${words[@]}"; do
    [[ $word == "$cur"* ]] && COMPREPLY+=("$prefix$word")
  done
}

__${model.program}_files() {
  local IFS=$'\\n'
  compopt -o filenames 2> /dev/null
  COMPREPLY+=($(compgen -f -- "$cur"))
}

# Profile names from \`${model.program} completion --profiles\`, which prints nothing when it finds none.
__${model.program}_profiles() {
  local name self=$1
  [[ $self == "~/"* ]] && self=$HOME/\${self#"~/"}
  while IFS= read -r name; do
    [[ -n $name && $name == "$cur"* ]] && COMPREPLY+=("$prefix$(printf '%q' "$name")")
  done < <("$self" "\${config[@]}" completion --profiles 2> /dev/null)
}

__${model.program}_value_of() {
  __${model.program}_value "$1"
  case $REPLY in
    file) __${model.program}_files ;;
    profile) __${model.program}_profiles "\${COMP_WORDS[0]}" ;;
    choice\\ *) __${model.program}_words "\${REPLY#choice }" ;;
  esac
}

_${model.program}() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev= cmd= word prefix= REPLY i nargs=0
  local -a config=()
  COMPREPLY=()
  # The words before the cursor: the command path, options and their values, arguments, --.
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=\${COMP_WORDS[i]}
    if [[ $word == -- ]]; then
      __${model.program}_args "$cmd"
      if [[ $REPLY == commands ]]; then
        # The command that follows --: bash-completion completes it as if typed alone.
        if declare -F _command_offset > /dev/null; then
          _command_offset $((i + 1))
        elif ((COMP_CWORD == i + 1)); then
          COMPREPLY=($(compgen -c -- "$cur"))
        else
          __${model.program}_files
        fi
      else
        __${model.program}_files
      fi
      return 0
    elif [[ $word == -* ]]; then
      # COMP_WORDBREAKS makes "=" a word: --config=FILE is three words.
      if [[ \${COMP_WORDS[i + 1]} == = ]]; then
        [[ $word == -c || $word == --config ]] && ((i + 2 < COMP_CWORD)) && config=(--config "\${COMP_WORDS[i + 2]}")
        ((i += 2))
        continue
      fi
      __${model.program}_value "$word"
      if [[ -n $REPLY ]]; then
        [[ $word == -c || $word == --config ]] && ((i + 1 < COMP_CWORD)) && config=(--config "\${COMP_WORDS[i + 1]}")
        ((i++))
      fi
    else
      __${model.program}_commands "$cmd"
      if ((nargs == 0)) && [[ " $REPLY " == *" $word "* ]]; then
        cmd=\${cmd:+$cmd }$word
      else
        ((nargs++))
      fi
    fi
  done

  # An option's value: --format <TAB>, --format=<TAB>, --format=js<TAB>.
  prev=\${COMP_WORDS[COMP_CWORD - 1]}
  if [[ $cur == = && $prev == -* ]]; then
    cur=
    __${model.program}_value_of "$prev"
    return 0
  elif [[ $prev == = && \${COMP_WORDS[COMP_CWORD - 2]} == -* ]]; then
    __${model.program}_value_of "\${COMP_WORDS[COMP_CWORD - 2]}"
    return 0
  elif [[ $cur == --*=* ]]; then
    prefix=\${cur%%=*}=
    word=\${cur%%=*}
    cur=\${cur#*=}
    __${model.program}_value_of "$word"
    return 0
  elif [[ $prev == -* ]] && ((COMP_CWORD > 1)); then
    __${model.program}_value "$prev"
    if [[ -n $REPLY ]]; then
      __${model.program}_value_of "$prev"
      return 0
    fi
  fi

  if [[ $cur == -* ]]; then
    __${model.program}_options "$cmd"
    __${model.program}_words "$REPLY"
    return 0
  fi
  __${model.program}_commands "$cmd"
  if [[ -n $REPLY ]] && ((nargs == 0)); then
    __${model.program}_words "$REPLY"
    return 0
  fi
  __${model.program}_args "$cmd"
  case $REPLY in
    files) __${model.program}_files ;;
    choice\\ *) ((nargs == 0)) && __${model.program}_words "\${REPLY#choice }" ;;
    *)
      # No argument to complete here: the command's options.
      __${model.program}_options "$cmd"
      __${model.program}_words "$REPLY"
      ;;
  esac
  return 0
}

complete -F _${model.program} ${model.program}
`;
}

/** Text inside single quotes in zsh, and inside an _arguments [description] (no brackets, no colons). */
function zshDescription(text: string): string {
  return text.replace(/\[/g, '(').replace(/\]/g, ')').replace(/:/g, ' -').replace(/\\/g, '/').replace(/'/g, `'\\''`);
}

const functionName = (program: string, path: string): string => `_${program}${path ? `_${path.replace(/[^\w]+/g, '_')}` : ''}`;

function zshOptionSpecs(options: readonly CompletionOption[], program: string): string[] {
  const specs: string[] = [];
  for (const o of options) {
    const exclusive = o.names.length > 1 ? `(${o.names.join(' ')})` : '';
    const isHelp = o === HELP || o === VERSION;
    for (const name of o.names) {
      const lead = isHelp ? '(- *)' : exclusive;
      let spec = `${lead}${name}`;
      if (o.value !== 'none') spec += name.startsWith('--') ? '=' : '+';
      spec += `[${zshDescription(o.help)}]`;
      if (o.value === 'file') spec += `:${o.valueName}:_files`;
      else if (o.value === 'profile') spec += `:${o.valueName}:_${program}_profiles`;
      else if (o.value === 'text') spec += `:${o.valueName}: `;
      else if (typeof o.value !== 'string') spec += `:${o.valueName}:(${o.value.join(' ')})`;
      specs.push(`'${spec}'`);
    }
  }
  return specs;
}

function zshArgsSpec(args: CompletionCommand['args'], program: string): string[] {
  switch (args.kind) {
    case 'none':
      return [];
    case 'files':
      return [`'${args.variadic ? '*' : args.optional ? ':' : ''}:${args.name}:_files'`];
    case 'commands':
      return [`'*::${args.name}:_${program}_command_line'`];
    case 'words':
      return [`'${args.optional ? ':' : ''}:${args.name}:(${args.words.join(' ')})'`];
  }
}

function zsh(model: CompletionModel): string {
  const p = model.program;
  const fn = (c: CompletionCommand): string => {
    const specs = zshOptionSpecs(c.options, p);
    const name = functionName(p, c.path);
    const lines = (all: string[]): string => all.map((s) => `    ${s}`).join(' \\\n');
    if (!c.commands.length) return `${name}() {\n  _arguments -S \\\n${lines([...specs, ...zshArgsSpec(c.args, p)])}\n}\n`;
    const entries = c.commands.map((s) => `    '${s.name}:${zshDescription(s.help)}'`).join('\n');
    return `${name}() {
  local curcontext=$curcontext state line ret=1
  # not "commands": that is zsh's table of the commands on PATH, which _normal needs after --
  local -a subcommands
  _arguments -C -S \\
${lines([...specs, "': :->command'", "'*:: :->args'"])} && return 0
  case $state in
    command)
      subcommands=(
${entries}
      )
      _describe -t commands '${[p, ...(c.path ? [c.path] : []), 'command'].join(' ')}' subcommands && ret=0
      ;;
    args)
      curcontext=\${curcontext%:*:*}:${p}-${c.path ? `${c.path.replace(/ /g, '-')}-` : ''}$words[1]:
      case $words[1] in
${c.commands.map((s) => `        ${s.name}) ${functionName(p, s.path)} && ret=0 ;;`).join('\n')}
      esac
      ;;
  esac
  return ret
}
`;
  };
  const body = allCommands(model)
    .filter((c) => c.path)
    .map(fn)
    .join('\n');
  const root = fn(model.root).replace(
    `${functionName(p, '')}() {\n`,
    `${functionName(p, '')}() {
  # The program as typed, and a --config on the line, for the profile names.
  local ${p}_self=\${~words[1]}
  local -a ${p}_config
  local i=\${words[(I)(-c|--config)]}
  (( i > 0 && i < CURRENT - 1 )) && ${p}_config=(--config \${(Q)words[i + 1]})
`,
  );
  return `#compdef ${p}
${header(model, 'zsh', '#')}
# Install: ${p} completion zsh > ~/.zfunc/_${p}, with fpath+=(~/.zfunc) before compinit in ~/.zshrc.

# Profile names from \`${p} completion --profiles\`, which prints nothing when it finds none.
_${p}_profiles() {
  local -a profiles
  profiles=(\${(f)"$(\${${p}_self:-${p}} \${${p}_config[@]} completion --profiles 2> /dev/null)"})
  _wanted profiles expl profile compadd -a profiles
}

# The command after --, completed as if typed alone (the words _arguments hands over still begin with --).
_${p}_command_line() {
  if [[ $words[1] == -- ]]; then
    shift words
    (( CURRENT-- ))
  fi
  _normal
}

${body}
${root}
if [[ $funcstack[1] == _${p} ]]; then
  # autoloaded from fpath: this file is the body of _${p}, which has just been defined anew
  _${p} "$@"
else
  # sourced (source <(${p} completion zsh))
  compdef _${p} ${p}
fi
`;
}

/** Text inside single quotes in fish. */
const fishQuote = (text: string): string => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

function fish(model: CompletionModel): string {
  const p = model.program;
  const commands = allCommands(model);
  const lines: string[] = [];
  const is = (c: CompletionCommand, after = ''): string => fishQuote(`__${p}_is${c.path ? ` ${c.path}` : ''}${after}`);
  for (const c of commands) {
    lines.push('', `# ${c.path || p}`);
    for (const s of c.commands) lines.push(`complete -c ${p} -n ${is(c)} -a ${s.name} -d ${fishQuote(s.help)}`);
    for (const o of c.options) {
      const names = o.names.map((n) => (n.startsWith('--') ? `-l ${n.slice(2)}` : `-s ${n.slice(1)}`)).join(' ');
      let value = '';
      if (o.value === 'file') value = ' -r -F';
      else if (o.value === 'profile') value = ` -x -a ${fishQuote(`(__${p}_profiles)`)}`;
      else if (o.value === 'text') value = ' -x';
      else if (typeof o.value !== 'string') value = ` -x -a ${fishQuote(o.value.join(' '))}`;
      lines.push(`complete -c ${p} -n ${is(c)} ${names}${value} -d ${fishQuote(o.help)}`);
    }
    if (c.args.kind === 'files') lines.push(`complete -c ${p} -n ${is(c)} -F`);
    else if (c.args.kind === 'words') lines.push(`complete -c ${p} -n ${is(c)} -a ${fishQuote(c.args.words.join(' '))}`);
    else if (c.args.kind === 'commands') lines.push(`complete -c ${p} -n ${is(c, ' --')} -x -a ${fishQuote(`(__${p}_after_dashdash)`)}`);
  }
  const takesValue = valueOptions(model).flatMap((o) => o.names);
  const paths = commands.filter((c) => c.path).map((c) => fishQuote(c.path));
  return `${header(model, 'fish', '#')}
# Install: ${p} completion fish > ~/.config/fish/completions/${p}.fish

complete -c ${p} -e
complete -c ${p} -f

# The command on the line so far: '' before one, fetch, 'cert renew' ..., with ' --' after a --.
function __${p}_command
    set -l line (commandline -opc)
    set -l command ''
    set -l skip 0
    for word in $line[2..-1]
        if test $skip -eq 1
            set skip 0
            continue
        end
        switch $word
            case --
                echo "$command --"
                return
            case '-*=*'
            case ${takesValue.join(' ')}
                set skip 1
            case '-*'
            case '*'
                set -l next (string trim -- "$command $word")
                if contains -- $next ${paths.join(' ')}
                    set command $next
                else
                    break
                end
        end
    end
    echo $command
end

function __${p}_is
    set -l command (__${p}_command)
    test "$command" = "$argv"
end

# Profile names from \`${p} completion --profiles\`, which prints nothing when it finds none.
function __${p}_profiles
    set -l line (commandline -opc)
    set -l self (string replace -r '^~/' "$HOME/" -- $line[1])
    set -l config
    set -l i (contains -i -- --config $line; or contains -i -- -c $line)
    if test -n "$i"; and test $i -lt (count $line)
        set config --config $line[(math $i + 1)]
    end
    command $self $config completion --profiles 2> /dev/null
end

# The command after --, completed as if typed alone.
function __${p}_after_dashdash
    set -l line (commandline -opc) (commandline -ct)
    set -l i (contains -i -- -- $line)
    complete -C (string join ' ' -- $line[(math $i + 1)..-1])
end
${lines.join('\n')}
`;
}

/** Text inside single quotes in PowerShell. */
const psQuote = (text: string): string => `'${text.replace(/'/g, "''")}'`;

function powershell(model: CompletionModel): string {
  const p = model.program;
  const commands = allCommands(model);
  const table = (entries: [string, string][]): string => entries.map(([k, v]) => `    ${psQuote(k)} = ${v}`).join('\n');
  const dictionary = (items: [string, string][]): string => `[ordered]@{ ${items.map(([k, v]) => `${psQuote(k)} = ${psQuote(v)}`).join('; ')} }`;
  return `${header(model, 'powershell', '#')}
# Install: add \`${p} completion powershell | Out-String | Invoke-Expression\` to $PROFILE.
# A file value falls back to PowerShell's own path completion.

Register-ArgumentCompleter -Native -CommandName '${p}', '${p}.exe' -ScriptBlock {
  param($wordToComplete, $commandAst, $cursorPosition)

  # Sub-commands and their descriptions ('' is ${p} itself).
  $commands = @{
${table(commands.filter((c) => c.commands.length).map((c) => [c.path, dictionary(c.commands.map((s) => [s.name, s.help]))]))}
  }
  # Options and their descriptions.
  $options = @{
${table(commands.map((c) => [c.path, dictionary(c.options.flatMap((o) => o.names.map((n): [string, string] => [n, o.help])))]))}
  }
  # What an option's value is: file, profile, text, or 'choice WORDS'.
  $values = @{
${table(valueOptions(model).flatMap((o) => o.names.map((n): [string, string] => [n, psQuote(kindWord(o.value))])))}
  }
  # What a command's arguments are: files, commands (after --), or 'choice WORDS'.
  $arguments = @{
${table(commands.filter((c) => c.path && c.args.kind !== 'none').map((c) => [c.path, psQuote(argsWord(c.args))]))}
  }

  # A value (a profile name comes from the config file) as PowerShell reads it back: anything but a plain
  # word is single-quoted, its quotes doubled (PowerShell takes U+2018-U+201B for single quotes too), so a
  # name like x;Start-Process calc is inserted as one argument, never run.
  $quote = { param($s) if ($s -match '^\\w[\\w.-]*$') { $s } else { "'" + ($s -replace "['\\u2018-\\u201B]", '$0$0') + "'" } }

  # The words before the one being completed.
  $words = @($commandAst.CommandElements | Where-Object { $_.Extent.EndOffset -le $cursorPosition } | ForEach-Object { $_.Extent.Text })
  if ($wordToComplete -ne '' -and $words.Count -gt 1) { $words = @($words | Select-Object -First ($words.Count - 1)) }

  $command = ''
  $nargs = 0
  $config = @()
  for ($i = 1; $i -lt $words.Count; $i++) {
    $word = $words[$i]
    if ($word -eq '--') {
      # The command after --: PowerShell's own completion.
      return
    }
    if ($word.StartsWith('-')) {
      if ($values.ContainsKey($word)) {
        if (($word -eq '-c' -or $word -eq '--config') -and $i + 1 -lt $words.Count) { $config = @('--config', $words[$i + 1]) }
        $i++
      }
      continue
    }
    if ($nargs -eq 0 -and $commands.ContainsKey($command) -and $commands[$command].Contains($word)) { $command = "$command $word".Trim() } else { $nargs++ }
  }

  $result = @()
  $prev = if ($words.Count -gt 1) { $words[$words.Count - 1] } else { '' }
  if ($prev.StartsWith('-') -and $values.ContainsKey($prev)) {
    $kind = $values[$prev]
    if ($kind -eq 'file') { return }
    $names = @()
    if ($kind -eq 'profile') { $names = @(& $words[0] @config completion --profiles 2> $null) }
    elseif ($kind.StartsWith('choice ')) { $names = $kind.Substring(7).Split(' ') }
    foreach ($name in $names) {
      if ($name -and $name.StartsWith($wordToComplete)) { $result += [System.Management.Automation.CompletionResult]::new((& $quote $name), $name, 'ParameterValue', $name) }
    }
    return $result
  }
  $subs = if ($nargs -eq 0 -and $commands.ContainsKey($command)) { $commands[$command] } else { $null }
  $kind = if ($arguments.ContainsKey($command)) { $arguments[$command] } else { 'none' }
  if ($wordToComplete.StartsWith('-') -or (-not $subs -and ($kind -eq 'none' -or $kind -eq 'commands'))) {
    foreach ($o in $options[$command].GetEnumerator()) {
      if ($o.Key.StartsWith($wordToComplete)) { $result += [System.Management.Automation.CompletionResult]::new($o.Key, $o.Key, 'ParameterName', $o.Value) }
    }
    return $result
  }
  if ($subs) {
    foreach ($c in $subs.GetEnumerator()) {
      if ($c.Key.StartsWith($wordToComplete)) { $result += [System.Management.Automation.CompletionResult]::new($c.Key, $c.Key, 'Command', $c.Value) }
    }
    return $result
  }
  if ($kind.StartsWith('choice ') -and $nargs -eq 0) {
    foreach ($name in $kind.Substring(7).Split(' ')) {
      if ($name.StartsWith($wordToComplete)) { $result += [System.Management.Automation.CompletionResult]::new((& $quote $name), $name, 'ParameterValue', $name) }
    }
    return $result
  }
  # files: PowerShell's own path completion
}
`;
}
