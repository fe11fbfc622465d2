#!/usr/bin/env node
/**
 * The native storm core beside the JavaScript path and the C reference (issue 17), against a
 * private Mosquitto on loopback, a fresh broker per measurement, everything in this one run:
 * - handshakes/s at 5k and 15k with 64 in flight (herd: --max-handshakes 32 × 2 workers; C: --inflight 64),
 *   herd counted to its last CONNACK as the C client counts;
 * - source addresses: fresh ones per measurement (never the previous run's), 2 for the C client and
 *   the native core (both connect with IP_BIND_ADDRESS_NO_PORT), and for herd-js as many as keep
 *   each at ≤ 5,000 connections (herd's own preflight rule): Node binds before connecting, with
 *   SO_REUSEADDR, and past ~7,000 sockets on one address every bind costs ~1.3 ms
 *   (bench/experiments/bind-reuseaddr.c) — at 15k over 2 addresses that was the JS path's collapse;
 * - client CPU µs per connection over the connect phase;
 * - user-space bytes per held idle connection (RSS delta while all are held; herd after a forced GC);
 * - schedule lag p50/p99 of a 5,000-device spike at t = 0 (herd js vs native, warm start on).
 * Prints figures and ratios with the load average; asserts nothing.
 *
 *   npm run build && node scripts/build-native.js && node bench/native.js [--repeats 1] [--sizes 5000,15000]
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Coordinator } from '../dist/engine/coordinator.js';
import { loadNative, nativeUnavailable } from '../dist/protocols/native/binding.js';
import { loadScenario } from '../dist/scenario/load.js';
import { buildReference, runReference } from './lib/cref.js';
import { runHerd } from './lib/herd.js';
import { median } from './lib/procs.js';
import { parsePool, SourcePool } from './lib/sources.js';
import { findMosquitto, mosquittoFactory, withBroker } from './lib/targets.js';
import { formatTimeWait, timeWaitBy } from './lib/tcp-state.js';
import { arg, runMain, writeSummary } from './lib/main.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repeats = Number(arg('repeats', '1'));
const sizes = String(arg('sizes', '5000,15000')).split(',').map(Number);
const spikeDevices = Number(arg('spike', '5000'));
const pool = new SourcePool(parsePool(String(arg('source-pool', '127.0.0.64-127.0.0.254'))));
/** herd-js: at most this many bound sockets per source address (src/engine/preflight.ts CHEAP_BOUND_PER_ADDRESS). */
const JS_PER_ADDRESS = 5_000;
/** Fresh addresses for one measurement, with the TIME_WAIT already on them logged. */
function sourcesFor(client, devices) {
  const k = client === 'js' ? Math.max(2, Math.ceil(devices / JS_PER_ADDRESS)) : 2;
  const out = [];
  while (out.length < k) out.push(...pool.take(0).slice(0, k - out.length));
  log(`  ${client}: ${out.join(', ')} — ${formatTimeWait(timeWaitBy(out))}`);
  return out;
}
const INFLIGHT = 64;
const WORKERS = 2;
const log = (m) => process.stderr.write(`${m}\n`);

async function herdCeiling(factory, engine, devices, runDir) {
  mkdirSync(runDir, { recursive: true });
  return withBroker(factory, (t) =>
    runHerd({
      repoRoot,
      probePath: join(repoRoot, 'bench/lib/probe.js'),
      runDir,
      target: t,
      devices,
      ratePerS: 100_000,
      holdMs: 11_000,
      workers: WORKERS,
      maxHandshakes: INFLIGHT / WORKERS,
      sources: sourcesFor(engine, devices),
      timeoutMs: 180_000,
      gcSamples: true,
      engine,
    }),
  );
}

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
      sourceIps: sourcesFor(engine, spikeDevices),
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

const med = (xs) => {
  const ok = xs.filter((x) => typeof x === 'number' && Number.isFinite(x));
  return ok.length ? median(ok) : null;
};
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
  const rows = [];
  for (const n of sizes) {
    const runs = { c: [], js: [], native: [] };
    for (let i = 0; i < repeats; i++) {
      if ('binary' in ref) {
        log(`[${n}] C reference ${i + 1}/${repeats}`);
        runs.c.push(
          await withBroker(factory, (t) =>
            runReference(ref.binary, {
              target: t,
              count: n,
              inflight: INFLIGHT,
              sources: sourcesFor('c', n),
              holdMs: 2_000,
              prefix: `nref${n}-${i}`,
              timeoutMs: 120_000,
            }),
          ),
        );
      }
      for (const engine of loadNative() === null ? ['js'] : ['js', 'native']) {
        log(`[${n}] herd-${engine} ${i + 1}/${repeats}`);
        runs[engine].push(await herdCeiling(factory, engine, n, join(workDir, `${n}-${engine}-${i}`)));
      }
    }
    const herdRow = (engine) => ({
      client: `herd-${engine}`,
      perS: med(runs[engine].map((r) => r.completedAllPerS)),
      cpuUs: med(runs[engine].map((r) => r.cpu.usPerConnection)),
      bytes: med(runs[engine].map((r) => r.memory.afterGc?.rssBytesPerConnection ?? r.memory.rssBytesPerConnection)),
      // Live JavaScript heap after a forced GC: what the sessions themselves keep, free of the
      // storm's garbage that RSS still carries (pages V8 and malloc have not returned).
      heapBytes: med(runs[engine].map((r) => r.memory.afterGc?.heapUsedBytesPerConnection ?? null)),
      ok: med(runs[engine].map((r) => r.attempts.succeeded)),
    });
    const c = {
      client: 'C reference',
      perS: med(runs.c.map((r) => r.handshakesPerS)),
      cpuUs: med(runs.c.map((r) => r.cpuUsPerConnection)),
      bytes: med(runs.c.map((r) => r.bytesPerHeldConnection)),
      heapBytes: null,
      ok: med(runs.c.map((r) => r.succeeded)),
    };
    rows.push({ n, c, js: herdRow('js'), native: runs.native.length ? herdRow('native') : null });
  }
  const spikes = {};
  for (const engine of loadNative() === null ? ['js'] : ['js', 'native']) {
    log(`[spike ${spikeDevices}] herd-${engine}`);
    spikes[engine] = await spikeLag(factory, engine);
  }
  const load1 = loadavg()[0];

  console.log(
    `\nnative storm core vs JavaScript path vs C reference — ${factory.label} ${factory.version}, loopback, ${INFLIGHT} in flight, fresh source addresses per run (C and native 2, js 1 per ${JS_PER_ADDRESS.toLocaleString('en-US')}), medians of ${repeats}`,
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
