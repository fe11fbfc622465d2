#!/usr/bin/env node
/**
 * `npm test`: every phase runs and is reported, even after one failed, so a red run still shows
 * the whole picture; exits 1 if any phase failed. The layer check and the build come first and
 * gate the rest: the tests run the built CLI (dist/), so a failed build would only repeat itself.
 */
import { spawnSync } from 'node:child_process';

const GATES = [
  ['layers', 'npm', ['run', 'check:layers']],
  ['build', 'npm', ['run', 'build']],
];
const PHASES = [
  ['format (prettier --check)', 'npx', ['prettier', '--check', 'src', 'test', 'bench', 'scripts']],
  ['house rules (file and line length)', 'node', ['scripts/check-house.js']],
  ['unit, adapter and e2e tests', 'npx', ['vitest', 'run']],
];

const results = [];
function phase(name, cmd, args) {
  const startedMs = Date.now();
  process.stdout.write(`\n=== ${name}: ${cmd} ${args.join(' ')}\n`);
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  const code = r.status ?? 1;
  results.push({ name, code, seconds: Math.round((Date.now() - startedMs) / 1000), signal: r.signal });
  return code === 0;
}

let gated = false;
for (const [name, cmd, args] of GATES) {
  if (!phase(name, cmd, args)) {
    gated = true;
    break;
  }
}
if (!gated) for (const [name, cmd, args] of PHASES) phase(name, cmd, args);

process.stdout.write('\n=== summary\n');
for (const r of results) {
  const how = r.code === 0 ? 'passed' : `FAILED (${r.signal ?? `exit ${r.code}`})`;
  process.stdout.write(`  ${r.name.padEnd(30)} ${how.padEnd(18)} ${r.seconds}s\n`);
}
if (gated) process.stdout.write(`  the test phases did not run: ${results.at(-1)?.name} failed\n`);
process.exit(gated || results.some((r) => r.code !== 0) ? 1 : 0);
