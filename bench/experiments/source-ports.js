#!/usr/bin/env node
/**
 * What explicit source ports (src/protocols/transports/source-ports.ts) are worth on the JavaScript
 * path: herd-js at --sizes devices over 2 fresh source addresses (7,500 per address at 15k — past
 * the ~7,000 where Node's port-0 bind searched the ephemeral range on every connect), this tree
 * against a build of the tree before the change (--before DIR: a checkout with `dist/` built),
 * interleaved --rounds times, a fresh Mosquitto per run, 64 in flight (2 workers × 32). Prints
 * conn/s and client CPU µs per connection per run; asserts nothing.
 *
 *   npm run build && node bench/experiments/source-ports.js --before /tmp/herd-before [--sizes 8000,15000] [--rounds 2]
 */
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { herdCeiling, sourcesFor } from '../lib/plain-storm.js';
import { parsePool, SourcePool } from '../lib/sources.js';
import { findMosquitto, mosquittoFactory } from '../lib/targets.js';
import { arg } from '../lib/main.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const before = arg('before', null);
if (before === null)
  throw new Error('--before DIR: a checkout of the tree before explicit source ports, with dist/ built');
const sizes = String(arg('sizes', '8000,15000')).split(',').map(Number);
const rounds = Number(arg('rounds', '2'));
const pool = new SourcePool(parsePool(String(arg('source-pool', '127.0.0.64-127.0.0.254'))));
const bin = findMosquitto();
if (bin === null) throw new Error('Mosquitto is not installed');
const factory = mosquittoFactory(bin);
const workDir = join(repoRoot, 'bench/out', `source-ports-${new Date().toISOString().replace(/[:.]/g, '')}`);
mkdirSync(workDir, { recursive: true });

const lines = [];
for (let round = 1; round <= rounds; round++) {
  for (const n of sizes) {
    for (const [label, root] of [
      ['before', resolve(before)],
      ['after', repoRoot],
    ]) {
      process.stderr.write(`[${n}] ${label} round ${round}\n`);
      const sources = sourcesFor(pool, 'js', n, 100_000);
      // The probe is this tree's: both builds are measured the same way.
      const o = { repoRoot: root, probeRoot: repoRoot, factory };
      const r = await herdCeiling(o, 'js', n, join(workDir, `${n}-${label}-${round}`), sources);
      const errs = (r.errors ?? []).map((e) => `${e.code} ${e.count}`).join(', ');
      lines.push(
        `${String(n).padStart(6)} ${label.padEnd(6)} round ${round}: ${Math.round(r.completedAllPerS)} conn/s, ` +
          `${Math.round(r.cpu.usPerConnection ?? NaN)} µs CPU/conn, ${r.attempts.succeeded} connected${errs ? `, errors: ${errs}` : ''}`,
      );
      process.stderr.write(`  ${lines.at(-1)}\n`);
    }
  }
}
console.log(
  `\nherd-js over 2 source addresses, 64 in flight, before vs after explicit source ports:\n${lines.join('\n')}`,
);
