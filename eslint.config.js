// @ts-check
// ESLint with typescript-eslint's type-aware rules (the type checker finds promises nobody awaits or
// handles, and promises passed where a plain callback is expected). `npm run lint`; part of `npm test`.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', 'docs/', 'test-results/', 'bench/results/', '.cache/', '.state/'] },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // The compiler reports these (noUnusedLocals, noUnusedParameters): one source of truth.
      '@typescript-eslint/no-unused-vars': 'off',
      // An async method without await is how an implementation of a Promise-returning interface turns a
      // throw into a rejection; requiring an await would change behaviour, not style.
      '@typescript-eslint/require-await': 'off',
      // Every finding was deliberate: callbacks built as closures (ThreadErrors, TaskCreation.abandoned,
      // kafkajs' resolveOffset/isStale) and static functions (Buffer.compare). Satisfying it means
      // re-declaring those interfaces' methods as function-typed properties.
      '@typescript-eslint/unbound-method': 'off',
      // A variable a closure reads before its one assignment (set after the closure is built) stays `let`.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
);
