/**
 * A node:test reporter that prints, at the end of a run, the files that took longest (the sum of their top-level
 * tests and suites). The suite has a time budget (about 10 minutes on 2 cores); this shows where it goes.
 */
export default async function* fileTimes(source) {
  const byFile = new Map();
  for await (const event of source) {
    if (
      (event.type === 'test:pass' || event.type === 'test:fail') &&
      event.data.nesting === 0 &&
      event.data.file
    ) {
      const ms = event.data.details?.duration_ms ?? 0;
      byFile.set(event.data.file, (byFile.get(event.data.file) ?? 0) + ms);
    }
  }
  const rows = [...byFile.entries()].sort((a, b) => b[1] - a[1]).slice(0, 20);
  const cwd = process.cwd() + '/';
  yield `\nslowest test files (seconds, sum of their top-level tests):\n`;
  for (const [file, ms] of rows) yield `${(ms / 1000).toFixed(1).padStart(7)}  ${file.replace(cwd, '')}\n`;
}
