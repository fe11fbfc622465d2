#!/usr/bin/env node
/**
 * The pace of scenarios/takeover-storm.yaml's cloned-id storm: 100 devices over 10 client ids, each
 * kicked device back after a fixed 1 s. When connects take a few ms, each id is taken over 9 times
 * a second, ~90 takeovers a second in all, until the teardown at 33 s (~2,500 in the run); a slower
 * machine stretches each turn by its connect time. test/e2e/session-takeover.test.ts asserts what
 * is exact whatever the speed (the loop's accounting); this prints the speed. Asserts nothing.
 *
 *   npm run build && node bench/takeover-storm.js [--repeats 1]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const i = process.argv.indexOf('--repeats');
const repeats = i === -1 ? 1 : Number(process.argv[i + 1]);
/** Seconds clear of the ramp (0–10 s) and of the reboot's reconnects (15–18 s), before the teardown. */
const STEADY = [20, 32];
const MODEL_PER_S = 90;

for (let n = 0; n < repeats; n++) {
  const out = mkdtempSync(join(tmpdir(), 'herd-takeover-'));
  const args = ['bin/herd.js', 'run', 'scenarios/takeover-storm.yaml', '--out', out, '-q', '--allow-saturated'];
  try {
    execFileSync(process.execPath, args, { cwd: ROOT, stdio: 'ignore' });
  } catch {
    // exit 1 is the scenario's verdict (sessions.lostRate fails by design)
  }
  const [id] = readdirSync(out);
  const r = JSON.parse(readFileSync(join(out, id, 'results.json'), 'utf8'));
  const cloned = r.cohorts.cloned;
  const kicked = cloned.errors.find((e) => e.code === 'DISCONNECT_8E')?.count ?? 0;
  const window = r.timeline.buckets.slice(STEADY[0], STEADY[1]);
  const perS = window.reduce((a, b) => a + b.disconnects, 0) / window.length;
  const p50 = cloned.latency['connect.total']?.p50Us;
  console.log(
    `takeovers ${kicked} in the run · ${perS.toFixed(1)}/s in seconds ${STEADY[0]}–${STEADY[1] - 1} ` +
      `(model ${MODEL_PER_S}/s: ${(perS / MODEL_PER_S).toFixed(2)}×) · cloned connect p50 ` +
      `${p50 === undefined ? '–' : (p50 / 1000).toFixed(1)} ms`,
  );
}
