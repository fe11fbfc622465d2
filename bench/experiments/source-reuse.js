#!/usr/bin/env node
/**
 * Does reusing the same source addresses run after run slow the JavaScript path down (issue 17,
 * "the JS-path bench collapse")? Runs the sequence bench/native.js runs — C reference, herd-js,
 * herd-native — `--rounds` times against a fresh Mosquitto each, on the SAME source addresses
 * (default 127.0.0.2,127.0.0.3, as bench/native.js did), and prints before each run the TIME_WAIT
 * sockets on those addresses (client side / broker side) and, after it, the rate, client CPU µs
 * per connection and the errors from herd's results.json. Asserts nothing.
 *
 *   npm run build && node bench/experiments/source-reuse.js [--rounds 3] [--devices 15000] [--sources 127.0.0.2,127.0.0.3] [--clients c,js,native]
 */
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadNative } from '../../dist/protocols/native/binding.js';
import { buildReference, runReference } from '../lib/cref.js';
import { runHerd } from '../lib/herd.js';
import { findMosquitto, mosquittoFactory } from '../lib/targets.js';
import { formatTimeWait, timeWaitBy } from '../lib/tcp-state.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? dflt : process.argv[i + 1];
};
const rounds = Number(arg('rounds', '3'));
const devices = Number(arg('devices', '15000'));
const sources = String(arg('sources', '127.0.0.2,127.0.0.3')).split(',');
const clients = String(arg('clients', 'c,js,native'))
  .split(',')
  .filter((c) => c !== 'native' || loadNative() !== null);
if (sources.some((s) => !s.startsWith('127.'))) throw new Error('--sources: loopback addresses only');

const bin = findMosquitto();
if (bin === null) {
  process.stderr.write('source-reuse: Mosquitto is not installed\n');
  process.exit(2);
}
const factory = mosquittoFactory(bin);
const ref = buildReference(repoRoot);
const workDir = join(repoRoot, 'bench/out', `source-reuse-${new Date().toISOString().replace(/[:.]/g, '')}`);

async function withBroker(fn) {
  const t = await factory.start();
  try {
    return await fn(t);
  } finally {
    await t.stop();
  }
}

for (let round = 1; round <= rounds; round++) {
  for (const c of clients) {
    const before = formatTimeWait(timeWaitBy(sources));
    const t0 = Date.now();
    let line;
    if (c === 'c') {
      if (!('binary' in ref)) continue;
      const r = await withBroker((t) =>
        runReference(ref.binary, {
          target: t,
          count: devices,
          inflight: 64,
          sources,
          holdMs: 2_000,
          prefix: `sr${round}`,
          timeoutMs: 120_000,
        }),
      );
      line = `${Math.round(r.handshakesPerS)}/s · ${r.cpuUsPerConnection.toFixed(1)} µs/conn · ok ${r.succeeded} · errors ${JSON.stringify(r.errors)}`;
    } else {
      const runDir = join(workDir, `${round}-${c}`);
      mkdirSync(runDir, { recursive: true });
      const r = await withBroker((t) =>
        runHerd({
          repoRoot,
          probePath: join(repoRoot, 'bench/lib/probe.js'),
          runDir,
          target: t,
          devices,
          ratePerS: 100_000,
          holdMs: 3_000,
          workers: 2,
          maxHandshakes: 32,
          sources,
          timeoutMs: 180_000,
          engine: c,
        }),
      );
      const errs = r.errors?.connect ?? r.errors;
      line = `${Math.round(r.completedAllPerS)}/s · ${r.cpu.usPerConnection?.toFixed(1)} µs/conn · ok ${r.attempts.succeeded} · tcpConnect p99 ${Math.round((r.tcpConnectUs?.p99 ?? 0) / 1000)} ms · errors ${JSON.stringify(errs).slice(0, 300)}`;
    }
    console.log(
      `round ${round} ${c.padEnd(6)} before: ${before}\n  → ${line} (${((Date.now() - t0) / 1000).toFixed(0)} s)`,
    );
  }
}
console.log(`after: ${formatTimeWait(timeWaitBy(sources))}`);
