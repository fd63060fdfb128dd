/** `c8ytoken completion`: its row of the command table (cli/commands.ts). Cheap: the runner loads only when the command runs. */
import { option } from '../../core/config/options.js';
import { defineCommand } from '../command.js';
import { keys } from './keys.js';

export const spec = defineCommand({
  name: 'completion',
  summary: 'print the shell completion script for bash, zsh, fish or powershell (commands, options, their values, profile names)',
  args: ['[shell]', 'bash, zsh, fish or powershell'],
  argValues: option('shell').choices!,
  examples: [
    'c8ytoken completion bash > ~/.local/share/bash-completion/completions/c8ytoken',
    'c8ytoken completion zsh > ~/.zfunc/_c8ytoken',
    'c8ytoken completion fish > ~/.config/fish/completions/c8ytoken.fish',
    'c8ytoken completion powershell | Out-String | Invoke-Expression',
    'source <(c8ytoken completion bash)',
  ],
  options: keys,
  notes:
    'The script is made from the commands and options of this version: make it again after an upgrade (the Debian package installs it for bash, zsh and fish). zsh: the folder must be in fpath before compinit runs (fpath+=(~/.zfunc) in ~/.zshrc). PowerShell: put the line in $PROFILE. Profile names are completed from the config file the search finds, or the one --config names on the line.',
  load: async () => (await import('./run.js')).run,
});
