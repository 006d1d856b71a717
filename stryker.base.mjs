// Mutation testing (Stryker, command runner): Stryker copies the repository into a sandbox under .stryker-tmp/
// (node_modules symlinked), puts every mutant of `mutate` into the code, and runs `command` once per mutant with
// that mutant switched on; a non-zero exit of the test file kills it. Reports go to reports/mutation/.
// Run through `npm run mutate` (every target) or one `npm run mutate:<name>`.

/**
 * The configuration for one source file (or several, or line ranges of them: `file.ts:10-80`) and the node:test
 * file(s) that must catch its mutants.
 * @param {string} name report name
 * @param {string | string[]} source the file(s) to mutate
 * @param {string | string[]} test its unit tests (listed explicitly: on Node 20 `node --test DIR` runs no .ts file)
 * @param {{ testNamePattern?: string }} [options] only the tests (or suites) whose name matches run: a test file's
 *   tests of code that is not mutated need not run for every mutant
 * @returns {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export function target(name, source, test, options = {}) {
  const tests = [test].flat().join(' ');
  const only = options.testNamePattern ? ` --test-name-pattern='${options.testNamePattern}'` : '';
  return {
    $schema: './node_modules/@stryker-mutator/core/schema/stryker-schema.json',
    packageManager: 'npm',
    testRunner: 'command',
    commandRunner: { command: `node --import tsx --test --test-reporter=dot${only} ${tests}` },
    // The command runner cannot tell which test covers which mutant: every mutant runs the whole test file.
    coverageAnalysis: 'off',
    mutate: [source].flat(),
    concurrency: 2,
    // Below 90 % the run fails (exit code 1).
    thresholds: { high: 90, low: 80, break: 90 },
    reporters: ['clear-text', 'progress', 'html', 'json'],
    htmlReporter: { fileName: `reports/mutation/${name}.html` },
    jsonReporter: { fileName: `reports/mutation/${name}.json` },
    // Only what the tests load goes into the sandbox.
    ignorePatterns: ['data', 'test/artifacts', 'bench', 'README.md'],
    tempDirName: '.stryker-tmp',
    cleanTempDir: true,
  };
}
