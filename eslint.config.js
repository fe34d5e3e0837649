// Lint rules, including the dependency boundaries of design.md. Messages teach:
// they say which rule of the architecture an import breaks and what to do instead.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const boundary = (message) => ({ message });

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'packages/hub/public/**', 'bench/results/**', 'data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node }, ecmaVersion: 2022, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    files: ['packages/protocol/src/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: '^(?!\\.{1,2}/)', ...boundary('packages/protocol has zero runtime dependencies and runs in Node and browsers: import only relative files of this package (design.md, "Dependency rules").') }] }],
    },
  },
  {
    files: ['packages/mqtt/src/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['@fieldlink/*', '**/hub/src/**', '**/device/src/**', '**/protocol/src/**'], ...boundary('packages/mqtt is a broker core that knows nothing of the hub: take what it needs through Hooks, EngineLimits and EngineStore (design.md, "Dependency rules").') },
      ] }],
      'no-restricted-syntax': ['error', { selector: "MemberExpression[object.name='process'][property.name='env']", message: 'The engine takes its limits as EngineLimits; only packages/hub/src/config/ reads process.env (design.md, "Dependency rules").' }],
    },
  },
  {
    files: ['packages/dashboard/src/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['@fieldlink/hub', '@fieldlink/hub/*', '**/hub/src/**'], ...boundary('The dashboard never imports server code: talk to the hub through @fieldlink/protocol (the typed client) and the HTTP API.') },
        { group: ['@fieldlink/device', '**/device/src/**'], ...boundary('The dashboard depends on @fieldlink/protocol only.') },
      ] }],
    },
  },
  {
    files: ['packages/hub/src/**/*.ts', 'packages/device/src/**/*.ts'],
    ignores: ['packages/hub/src/config/**'],
    rules: {
      'no-restricted-syntax': ['error', { selector: "MemberExpression[object.name='process'][property.name='env']", message: 'Only packages/hub/src/config/ reads process.env: add a typed option to config/options.ts and receive it as a parameter (design.md, "Dependency rules").' }],
    },
  },
  {
    files: ['packages/hub/src/**/*.ts'],
    ignores: ['packages/hub/src/bus/index.ts', 'packages/hub/src/storage/index.ts', 'packages/hub/src/bus/*.ts', 'packages/hub/src/storage/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['**/bus/embedded*', '**/bus/external*'], ...boundary('Only bus/index.ts picks a bus backend: import createBus from bus/index.js and the Bus type from bus/types.js.') },
        { group: ['**/storage/sqlite*', '**/storage/postgres*'], ...boundary('Only storage/index.ts picks a store backend: import openStore from storage/index.js and the Store type from storage/types.js.') },
      ] }],
    },
  },
  {
    files: ['**/test/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
