// ESLint for the whole tree: the recommended JavaScript and typescript-eslint rules, with formatting
// left to Prettier (eslint-config-prettier switches off the rules that would fight it).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      '.output*/',
      'fixtures/chat/public/editors/build/',
      '.wxt/',
      'bench/out/',
      'demo-output/',
      'lib/policy/validate.generated.ts',
      'fixtures/chat/public/editors/*.js',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.browser, ...globals.node, ...globals.webextensions } },
    rules: {
      // Unused names are errors, except the deliberate `_ignored` ones.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      // Non-null assertions follow DOM lookups the adapters' snapshot tests guarantee.
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    // Tests and tools drive pages through page.evaluate, where the page's globals are untyped.
    files: ['test/**', 'bench/**', 'scripts/**', 'fixtures/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  prettier,
);
