// ESLint with typescript-eslint's type-checked rules (style.md: the type check counts as a test); plain
// JavaScript (bin, scripts, fixture generators) gets the recommended rules without types.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// The layers of design.md, guarded: cli on top, then the command folders, then output, then core; core's
// concept folders from the top down in CORE_ORDER (a folder imports only those after it), then its single
// files (text, limits, errors). Imports are relative, and no folder name is used on two levels, so a
// path segment names the folder. Static imports, re-exports and import() are all checked.
const CORE_ORDER = ['est', 'token', 'chain', 'config', 'platform', 'credentials', 'keystore', 'x509', 'files', 'encoding', 'time'];
const CORE_FILES = ['text', 'limits', 'errors'];
const TERMINAL = ['commander', 'chalk', 'ora'];

/** One no-restricted-imports and one no-restricted-syntax (for import()) from [regex, why] pairs. */
function forbid(rules) {
  return {
    'no-restricted-imports': ['error', { patterns: rules.map(([regex, message]) => ({ regex, message })) }],
    'no-restricted-syntax': ['error', ...rules.map(([regex, message]) => ({ selector: `ImportExpression[source.value=/${regex.replaceAll('/', '\\/')}/]`, message }))],
  };
}
const above = (names) => `^(\\.\\.?/)+(${names.join('|')})(/|\\.js$)`;
const terminal = [`^(${TERMINAL.join('|')})$`, 'core has no terminal in it (design.md): commander, chalk and ora are for cli and output'];
const oracles = ['^(node-forge|@peculiar/.*)$', "node-forge and @peculiar are the tests' independent oracles, not runtime code (design.md)"];
const notCore = [above(['cli', 'commands', 'output']), 'core imports nothing from cli, commands or output (design.md)'];
export const layers = [
  ...CORE_ORDER.map((name, i) => ({
    files: [`src/core/${name}/**/*.ts`],
    rules: forbid([notCore, terminal, oracles, ...(i > 0 ? [[above(CORE_ORDER.slice(0, i)), `core/${name} sits below ${CORE_ORDER.slice(0, i).join(', ')} (eslint.config.js CORE_ORDER)`]] : [])]),
  })),
  ...CORE_FILES.map((name, i) => ({
    files: [`src/core/${name}.ts`],
    rules: forbid([
      notCore,
      terminal,
      oracles,
      [`^\\./(${[...CORE_ORDER, ...CORE_FILES.slice(0, i + 1)].join('|')})(/|\\.js$)`, `core/${name}.ts is below every core folder${i ? ` and ${CORE_FILES.slice(0, i).join(', ')}` : ''}`],
    ]),
  })),
  { files: ['src/output/**/*.ts'], rules: forbid([[above(['cli', 'commands']), 'output imports no cli and no command (design.md)']]) },
  {
    files: ['src/commands/*/**/*.ts'],
    rules: forbid([
      [above(['cli']), 'a command does not import the cli'],
      ['^\\.\\./(?!command\\.js$)[\\w-]+(/|\\.js$)', 'a command folder imports no other command folder: what two commands share goes below them (core, output)'],
    ]),
  },
  {
    files: ['src/commands/*.ts'],
    rules: forbid([
      [above(['cli']), 'a command does not import the cli'],
      ['^\\./[\\w-]+/', "the commands' shared module imports no command folder"],
    ]),
  },
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'release/**'] },
  js.configs.recommended,
  {
    files: ['**/*.ts', '**/*.mts'],
    extends: [...tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // Facts and messages build strings from numbers and unions on purpose.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true, allowNullish: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  ...layers,
  {
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    languageOptions: { globals: { ...globals.node } },
    rules: { 'no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }] },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Tests read parsed JSON and module stubs loosely.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/require-await': 'off',
    },
  },
);
