// ESLint (flat config): the recommended JavaScript and typescript-eslint rules, and no focused or
// skipped tests. Prettier owns the formatting (npm run format); `npm test` checks both.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      'demo/dist/',
      'demo/mfe/dist/',
      'examples/angular/dist/',
      '.mutants/',
      '.data/',
      'test/support/mockServiceWorker.js',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.browser, ...globals.node, ...globals.mocha } },
    rules: {
      'no-empty': ['error', { allowEmptyCatch: true }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      // A focused test silently skips the rest of the suite; a skipped one hides a failure. An
      // engine-specific skip (`this.skip()` inside a test, with its reason) is still allowed.
      'no-restricted-properties': [
        'error',
        ...['it', 'describe', 'test', 'suite', 'context'].flatMap((object) => [
          { object, property: 'only', message: 'No focused tests: they skip the rest of the suite.' },
          {
            object,
            property: 'skip',
            message: 'No skipped tests: fix the test, or skip in one engine with this.skip() and the reason.',
          },
        ]),
      ],
      'no-restricted-globals': [
        'error',
        { name: 'xit', message: 'No skipped tests.' },
        { name: 'xdescribe', message: 'No skipped tests.' },
        { name: 'fit', message: 'No focused tests.' },
      ],
    },
  },
  {
    // chai's property assertions (`expect(x).to.be.true`) are expressions by design.
    files: ['test/**'],
    rules: { '@typescript-eslint/no-unused-expressions': 'off' },
  },
);
