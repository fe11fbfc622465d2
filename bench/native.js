#!/usr/bin/env node
/**
 * The native storm core beside the JavaScript path and the C reference (issue 17), against a
 * private Mosquitto on loopback, a fresh broker per measurement, everything in this one run:
 * - handshakes/s at 5k and 15k with 64 in flight (herd: --max-handshakes 32 × 2 workers; C: --inflight 64),
 *   herd counted to its last CONNACK as the C client counts;
 * - source addresses: fresh ones per measurement (never the previous run's), 2 for each client: the
 *   C client and the native core connect with IP_BIND_ADDRESS_NO_PORT, herd-js binds explicit ports
 *   from each worker's slice (before that, past ~7,000 sockets on one address every bind cost
 *   ~1.3 ms of kernel port search — bench/experiments/bind-reuseaddr.c); `--js-per-address N`
 *   gives herd-js one address per N connections instead;
 * - client CPU µs per connection over the connect phase;
 * - user-space bytes per held idle connection (RSS delta while all are held; herd after a forced GC);
 * - schedule lag p50/p99 of a 5,000-device spike at t = 0 (herd js vs native, warm start on).
 * Prints figures and ratios with the load average; asserts nothing.
 *
 *   npm run build && node scripts/build-native.js && node bench/native.js [--repeats 1] [--sizes 5000,15000]
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Coordinator } from '../dist/engine/coordinator.js';
import { loadNative, nativeUnavailable } from '../dist/protocols/native/binding.js';
import { loadScenario } from '../dist/scenario/load.js';
import { buildReference } from './lib/cref.js';
import { INFLIGHT, WORKERS, measurePlain, sourcesFor } from './lib/plain-storm.js';
import { parsePool, SourcePool } from './lib/sources.js';
import { findMosquitto, mosquittoFactory, withBroker } from './lib/targets.js';
import { arg, runMain, writeSummary } from './lib/main.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repeats = Number(arg('repeats', '1'));
const sizes = String(arg('sizes', '5000,15000')).split(',').map(Number);
const spikeDevices = Number(arg('spike', '5000'));
const pool = new SourcePool(parsePool(String(arg('source-pool', '127.0.0.64-127.0.0.254'))));
/**
 * herd-js: at most this many connections per source address. Since the JS transports bind explicit
 * ports (src/protocols/transports/source-ports.ts) there is no port search to dodge: 2 addresses
 * like the others, unless --js-per-address asks for more.
 */
const JS_PER_ADDRESS = Number(arg('js-per-address', '100000'));
const log = (m) => process.stderr.write(`${m}\n`);

async function spikeLag(factory, engine) {
  return withBroker(factory, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'herd-native-spike-'));
    const path = join(dir, 'spike.yaml');
    writeFileSync(
      path,
      `name: native-spike\ntarget: ${t.url}\ndevices: ${spikeDevices}\ndevice: { keepalive: 600s, connectTimeout: 10s, engine: ${engine} }\nwaves:\n  - { type: spike }\nhold: 11s\n`,
    );
    const c = new Coordinator({
      runId: `spike-${engine}`,
      scenario: loadScenario(path).resolved,
      targets: [[t.url]],
      workers: WORKERS,
      shard: { index: 0, count: 1 },
      startAtMs: null,
      sourceIps: sourcesFor(pool, engine, spikeDevices, JS_PER_ADDRESS),
      maxHandshakesInFlight: 0,
      maxPacketBytes: 64 * 1024,
      onWorkerFailure: 'abort',
      warmUp: true,
    });
    const o = await c.run();
    const lat = o.aggregate.latency();
    return {
      lagP50Us: lat['connect.scheduleLag'].p50Us,
      lagP99Us: lat['connect.scheduleLag'].p99Us,
      ok: o.aggregate.totals.succeeded,
    };
  });
}

const f0 = (x) => (x === null ? 'n/a' : Math.round(x).toLocaleString('en-US'));
const ratio = (a, b) => (a === null || b === null || b === 0 ? 'n/a' : (a / b).toFixed(2));

async function main() {
  const bin = findMosquitto();
  if (bin === null) {
    log('bench/native: Mosquitto is not installed (apt-get install -y mosquitto): nothing to measure against');
    return 2;
  }
  if (loadNative() === null) log(`bench/native: SKIP herd-native: ${nativeUnavailable()}`);
  const ref = buildReference(repoRoot);
  if ('skipped' in ref) log(`bench/native: SKIP C reference: ${ref.skipped}`);
  const factory = mosquittoFactory(bin);
  const workDir = join(repoRoot, 'bench/out', `native-${new Date().toISOString().replace(/[:.]/g, '')}`);
  const load0 = loadavg()[0];
  const rows = await measurePlain({
    repoRoot,
    factory,
    ref,
    pool,
    sizes,
    repeats,
    jsPerAddress: JS_PER_ADDRESS,
    workDir,
  });
  const spikes = {};
  for (const engine of loadNative() === null ? ['js'] : ['js', 'native']) {
    log(`[spike ${spikeDevices}] herd-${engine}`);
    spikes[engine] = await spikeLag(factory, engine);
  }
  const load1 = loadavg()[0];

  console.log(
    `\nnative storm core vs JavaScript path vs C reference — ${factory.label} ${factory.version}, loopback, ${INFLIGHT} in flight, fresh source addresses per run (C and native 2, js ${JS_PER_ADDRESS >= 100_000 ? '2' : `1 per ${JS_PER_ADDRESS.toLocaleString('en-US')}`}), medians of ${repeats}`,
  );
  console.log(
    `load average (1 min) ${load0.toFixed(2)} before, ${load1.toFixed(2)} after, on ${(await import('node:os')).cpus().length} cores`,
  );
  console.log(
    '\n| devices | client | handshakes/s | vs C | client CPU µs/conn | RSS bytes/held conn | live JS heap bytes/held conn | succeeded |',
  );
  console.log('|---:|---|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    for (const x of [r.c, r.js, r.native].filter(Boolean)) {
      console.log(
        `| ${r.n.toLocaleString('en-US')} | ${x.client} | ${f0(x.perS)} | ${ratio(x.perS, r.c.perS)} | ${x.cpuUs === null ? 'n/a' : x.cpuUs.toFixed(1)} | ${f0(x.bytes)} | ${x.heapBytes === null ? '—' : f0(x.heapBytes)} | ${f0(x.ok)} |`,
      );
    }
    if (r.native)
      console.log(
        `|  | native / js | ${ratio(r.native.perS, r.js.perS)}× | | ${ratio(r.native.cpuUs, r.js.cpuUs)}× | ${ratio(r.native.bytes, r.js.bytes)}× | ${ratio(r.native.heapBytes, r.js.heapBytes)}× | |`,
      );
  }
  console.log(`\n${spikeDevices}-device spike at t = 0 (warm start on), schedule lag:`);
  for (const [engine, s] of Object.entries(spikes))
    console.log(
      `  herd-${engine.padEnd(6)} p50 ${(s.lagP50Us / 1000).toFixed(1)} ms  p99 ${(s.lagP99Us / 1000).toFixed(1)} ms  (${s.ok} connected)`,
    );
  const at = (n) => rows.find((r) => r.n === n)?.native ?? null;
  const goal = (label, ok) =>
    console.log(`  ${ok === null ? 'not measured' : ok ? 'reached    ' : 'NOT reached'}  ${label}`);
  console.log('\ngoals (issue 17, this machine):');
  goal('native ≥ 25,000 handshakes/s at 15k', at(15000) ? at(15000).perS >= 25_000 : null);
  goal('native ≥ 20,000 handshakes/s at 5k', at(5000) ? at(5000).perS >= 20_000 : null);
  goal('native ≤ 1 KB per held idle connection', at(15000) ? at(15000).bytes <= 1024 : null);
  const js15 = rows.find((r) => r.n === 15000)?.js ?? null;
  goal(
    'js ≤ 3 KB per held idle connection (bench/memory.js splits where the bytes go)',
    js15 && js15.bytes !== null ? js15.bytes <= 3072 : null,
  );
  writeSummary(workDir, { load0, load1, rows, spikes });
  return 0;
}

runMain('native', main);
