#!/usr/bin/env node
/**
 * Rewrites test/durations.json (the order test/sequencer.ts runs files in) from a vitest JSON
 * report: each file's wall time in whole seconds, longest first.
 * Usage: node scripts/test-durations.js <vitest-report.json>
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';

const [file] = process.argv.slice(2);
if (file === undefined) {
  process.stderr.write('usage: node scripts/test-durations.js <vitest-report.json>\n');
  process.exit(2);
}
const report = JSON.parse(readFileSync(file, 'utf8'));
const rows = report.testResults.map((t) => [
  relative(process.cwd(), t.name),
  Math.max(1, Math.round((t.endTime - t.startTime) / 1000)),
]);
rows.sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
writeFileSync('test/durations.json', `${JSON.stringify(Object.fromEntries(rows), null, 2)}\n`);
process.stdout.write(`test/durations.json: ${rows.length} files\n`);
