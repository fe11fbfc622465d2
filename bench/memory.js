#!/usr/bin/env node
/**
 * Memory per held idle connection (issue 17): herd-js, herd-native and the C reference in the same
 * run, each against a fresh private Mosquitto on loopback, the same storm (64 handshakes in flight,
 * herd 2 workers × 32), every session then held idle (keepalive 600 s) while memory is read.
 *
 * For herd, per held session, summed over the workers, between two samples each taken right after
 * a forced full GC — at the worker's "go" (before its first connect) and once every session is
 * open: RSS, V8's live heap, V8's committed heap by space, external (Buffers), glibc malloc (bytes
 * in use, and what its arenas hold from the kernel), anonymous memory. Also RSS without the forced
 * GC (the median over the hold, as an operator would see it). The C reference reads its own RSS
 * before connecting and while holding. With two sizes, the marginal cost between them too: what
 * one more session costs without the fixed memory a run adds whatever its size.
 *
 * Workloads (issue 26): `connect` holds every session idle; `telemetry` is the same storm with
 * every device publishing QoS 1 once a second to its own topic with the echo subscription (the
 * default `device.publish`: every message counted end to end, one delivery stream per device), the
 * 'held' sample taken TELEMETRY_SETTLE_MS after every session is open, so every device has
 * published. The C reference only connects. For each herd fleet the connect rate (handshakes
 * completed over the wave and its p99 tail, as bench/native.js) and the CPU per connection are
 * printed with the telemetry fleet's ratio to the connect-only one: taken on a shared machine they
 * are noisy (the memory figures are not). Beside them, the broker's own CPU over the same window
 * (bench/lib/broker-cpu.js): per connection, and its share of one core over the window and its
 * busiest 250 ms — near 1.00, Mosquitto's one thread is what set the rate, not the client.
 *
 * Source addresses are fresh per measurement (round-robin over --source-pool), and the TIME_WAIT
 * sockets on them are counted before each one. Prints figures and ratios; asserts nothing.
 *
 *   npm run build && npm run bench:memory -- [--sizes 5000,15000] [--clients c,js,native]
 *     [--workloads connect,telemetry[,subscribe][,publish]] [--repeats 1] [--workers 2] [--snapshot]
 *
 * `subscribe` (asked for by name): the telemetry fleet's subscription step alone — every device
 * subscribes as the telemetry fleet does, but publishes once an hour, so hardly a message moves
 * during the run; set beside `telemetry`, it splits what the subscription costs from what the
 * messages do. `publish` (asked for by name): the telemetry fleet without its echo subscription —
 * every device publishes QoS 1 once a second and has its PUBACKs, and nothing is delivered back:
 * what herd's publish path costs the wave, apart from the broker's fan-out.
 */
import { mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadNative, nativeUnavailable } from '../dist/protocols/native/binding.js';
import { buildReference, runReference } from './lib/cref.js';
import { formatSummary, summariseSnapshot } from './lib/heap-summary.js';
import { runHerd } from './lib/herd.js';
import { brokerFigures, sampleCpu } from './lib/broker-cpu.js';
import { median } from './lib/procs.js';
import { parsePool, SourcePool } from './lib/sources.js';
import { findMosquitto, mosquittoFactory, withBroker } from './lib/targets.js';
import { formatTimeWait, timeWaitBy } from './lib/tcp-state.js';
import { arg, runMain, writeSummary } from './lib/main.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repeats = Number(arg('repeats', '1'));
const sizes = String(arg('sizes', '5000,15000')).split(',').map(Number);
const clients = String(arg('clients', 'c,js,native')).split(',');
const workloads = String(arg('workloads', 'connect,telemetry')).split(',');
const snapshot = process.argv.includes('--snapshot');
const holdMs = Number(arg('hold-ms', '11000'));
const pool = new SourcePool(parsePool(String(arg('source-pool', '127.0.0.64-127.0.0.254'))));
const INFLIGHT = 64;
/** The issue's telemetry fleet: QoS 1 once a second, echoed (device.publish's defaults otherwise). */
const TELEMETRY = '{ every: 1s, qos: 1 }';
/** The same fleet's subscription alone: one publish an hour (first ones spread over that hour). */
const SUBSCRIBE_ONLY = '{ every: 3600s, qos: 1 }';
/** The same fleet without its echo subscription: it publishes and has its PUBACKs, nothing comes back. */
const PUBLISH_ONLY = '{ every: 1s, qos: 1, echo: false }';
/** Two publish intervals: every device has subscribed and published before the 'held' sample. */
const TELEMETRY_SETTLE_MS = 2_000;
// 2 by default (herd's own choice on two cores); --workers 1 is one process, as the C client is one:
// on two cores Mosquitto shares, 2 workers and the broker are three busy processes.
const WORKERS = Number(arg('workers', '2'));
const log = (m) => process.stderr.write(`${m}\n`);

/** Fresh addresses: ≥ 2, ≤ 8,000 connections each (bench/lib/sources.js). */
const takeSources = (n) => pool.take(n);

async function measureHerd(factory, engine, devices, runDir, workload) {
  const telemetry = workload !== 'connect';
  mkdirSync(runDir, { recursive: true });
  const sources = takeSources(devices);
  const tw = timeWaitBy(sources);
  log(`  sources ${sources.join(', ')}: ${formatTimeWait(tw)}`);
  let samples = [];
  const r = await withBroker(factory, async (t) => {
    const s = await sampleCpu(t.pid, () =>
      runHerd({
        repoRoot,
        probePath: join(repoRoot, 'bench/lib/probe.js'),
        runDir,
        target: t,
        devices,
        ratePerS: 100_000,
        // The telemetry fleet's hold also covers the settle before its 'held' sample.
        holdMs: telemetry ? holdMs + TELEMETRY_SETTLE_MS : holdMs,
        workers: WORKERS,
        maxHandshakes: INFLIGHT / WORKERS,
        sources,
        timeoutMs: 180_000,
        gcSamples: true,
        engine,
        env: snapshot ? { HERD_BENCH_HEAP_SNAPSHOT: '1' } : {},
        ...(telemetry
          ? {
              publish: { subscribe: SUBSCRIBE_ONLY, publish: PUBLISH_ONLY }[workload] ?? TELEMETRY,
              heldDelayMs: TELEMETRY_SETTLE_MS,
            }
          : {}),
      }),
    );
    samples = s.samples;
    return s.result;
  });
  const broker = brokerFigures(samples, r.cpu.originMs, r.cpu.originMs + r.cpu.windowMs, r.attempts.succeeded);
  const g = r.memory.afterGc;
  const held = r.memory.held;
  return {
    held,
    // Writing a heap snapshot leaves its own memory resident through the hold: not comparable.
    rss: snapshot ? null : r.memory.rssBytesPerConnection,
    endRss: snapshot ? null : r.memory.endOfHoldRssBytesPerConnection,
    gcRss: g?.rssBytesPerConnection ?? null,
    heapUsed: g?.heapUsedBytesPerConnection ?? null,
    heapTotal: g?.heapTotalBytesPerConnection ?? null,
    external: g?.externalBytesPerConnection ?? null,
    mallocInUse: g?.mallocInUseBytesPerConnection ?? null,
    // What the held sessions keep alive, whenever V8 and malloc give pages back: the warm-up's pages,
    // returned during the hold, can take RSS after GC below zero.
    live:
      g?.heapUsedBytesPerConnection == null || g?.mallocInUseBytesPerConnection == null
        ? null
        : g.heapUsedBytesPerConnection + g.mallocInUseBytesPerConnection,
    mallocHeld: g?.mallocHeldBytesPerConnection ?? null,
    anon: g?.smapsAnonymousBytesPerConnection ?? null,
    spaces: g?.heapSpacesPhysicalBytesPerConnection ?? null,
    // Totals (bytes) for the marginal figure.
    gcRssTotal: g === null ? null : g.rssBytesPerConnection * held,
    endRssTotal:
      snapshot || r.memory.endOfHoldRssBytesPerConnection === null
        ? null
        : r.memory.endOfHoldRssBytesPerConnection * held,
    heapUsedTotal: g === null ? null : g.heapUsedBytesPerConnection * held,
    snapshots: r.heapSnapshots ?? [],
    setupHeap: r.setupPerDevice?.heapUsedBytes ?? null,
    setupExternal: r.setupPerDevice?.externalBytes ?? null,
    setupRss: r.setupPerDevice?.rssBytes ?? null,
    errors: r.errors,
    succeeded: r.attempts.succeeded,
    // Context only (the machine may be shared): what the memory settings cost in CPU.
    cpuUs: r.cpu.usPerConnection,
    kernelUs: r.cpu.kernelUsPerConnection ?? null,
    connPerS: r.completedPerS,
    delivery: r.delivery,
    brokerUs: broker?.usPerConnection ?? null,
    brokerBusy: broker?.busy ?? null,
    brokerPeak: broker?.peakBusy ?? null,
  };
}

async function measureC(ref, factory, n, i) {
  const sources = takeSources(n);
  log(`  sources ${sources.join(', ')}: ${formatTimeWait(timeWaitBy(sources))}`);
  const r = await withBroker(factory, (t) =>
    runReference(ref.binary, {
      target: t,
      count: n,
      inflight: INFLIGHT,
      sources,
      holdMs: 2_000,
      prefix: `mref${n}-${i}`,
      timeoutMs: 120_000,
    }),
  );
  return {
    held: r.held,
    cpuUs: r.cpuUsPerConnection,
    rss: r.bytesPerHeldConnection,
    endRss: r.bytesPerHeldConnection,
    gcRss: r.bytesPerHeldConnection,
    gcRssTotal: r.rssHeldBytes - r.rssBeforeBytes,
    endRssTotal: r.rssHeldBytes - r.rssBeforeBytes,
    succeeded: r.succeeded,
  };
}

/** Row keys: 'c', 'js', 'native' (connect only), 'js telemetry', 'native telemetry', 'native subscribe' … */
const rowKey = (client, workload) => (workload === 'connect' ? client : `${client} ${workload}`);
const label = (key) => (key === 'c' ? 'C reference' : `herd-${key}`);
const HERD_ROWS = ['js', 'native', ...['telemetry', 'subscribe', 'publish'].flatMap((w) => [`js ${w}`, `native ${w}`])];
/** The telemetry fleet's connect rate over the connect-only fleet's (same client, same size). */
const rateRatio = (t, a) => (t?.connPerS && a?.connPerS ? t.connPerS / a.connPerS : null);
const cpu = (x) => (x === null || x === undefined ? '—' : x.toFixed(0));
/** CPU µs per connection with its kernel share: "151 (96)". */
const cpuK = (x) => `${cpu(x.cpuUs)}${x.kernelUs === null || x.kernelUs === undefined ? '' : ` (${cpu(x.kernelUs)})`}`;
const busy = (x) => (x.brokerBusy === null ? '—' : `${x.brokerBusy.toFixed(2)} (${x.brokerPeak.toFixed(2)})`);

const med = (xs) => {
  const ok = xs.filter((x) => typeof x === 'number' && Number.isFinite(x));
  return ok.length ? median(ok) : null;
};
const f0 = (x) => (x === null || x === undefined ? '—' : Math.round(x).toLocaleString('en-US'));
const ratio = (a, b) => (a === null || b === null || !b ? 'n/a' : `${(a / b).toFixed(1)}×`);
const KEYS = [
  'held',
  'rss',
  'endRss',
  'gcRss',
  'heapUsed',
  'heapTotal',
  'external',
  'mallocInUse',
  'live',
  'mallocHeld',
  'anon',
  'gcRssTotal',
  'endRssTotal',
  'heapUsedTotal',
  'succeeded',
  'cpuUs',
  'kernelUs',
  'connPerS',
  'setupHeap',
  'setupExternal',
  'setupRss',
  'brokerUs',
  'brokerBusy',
  'brokerPeak',
];

async function main() {
  const unknown = workloads.filter((w) => !['connect', 'telemetry', 'subscribe', 'publish'].includes(w));
  if (unknown.length > 0) {
    log(`bench/memory: --workloads: expected connect, telemetry, subscribe or publish, got ${unknown.join(', ')}`);
    return 2;
  }
  if (!Number.isInteger(WORKERS) || WORKERS < 1 || INFLIGHT % WORKERS !== 0) {
    log(
      `bench/memory: --workers: expected a whole number dividing ${INFLIGHT} (1, 2, 4 …), got ${arg('workers', '2')}`,
    );
    return 2;
  }
  const bin = findMosquitto();
  if (bin === null) {
    log('bench/memory: Mosquitto is not installed (apt-get install -y mosquitto): nothing to measure against');
    return 2;
  }
  const want = clients.filter((c) => {
    if (c === 'native' && loadNative() === null)
      return (log(`bench/memory: SKIP herd-native: ${nativeUnavailable()}`), false);
    return true;
  });
  const ref = want.includes('c') ? buildReference(repoRoot) : { skipped: 'not asked for' };
  if ('skipped' in ref && want.includes('c')) log(`bench/memory: SKIP C reference: ${ref.skipped}`);
  const factory = mosquittoFactory(bin);
  const workDir = join(repoRoot, 'bench/out', `memory-${new Date().toISOString().replace(/[:.]/g, '')}`);
  const load0 = loadavg()[0];
  /** @type {Record<number, Record<string, object>>} */
  const rows = {};
  const snapshots = {};
  for (const n of sizes) {
    const runs = {};
    for (let i = 0; i < repeats; i++) {
      for (const c of want) {
        if (c === 'c') {
          log(`[${n}] C reference ${i + 1}/${repeats}`);
          if ('binary' in ref) (runs.c ??= []).push(await measureC(ref, factory, n, i));
          continue;
        }
        for (const w of workloads) {
          const key = rowKey(c, w);
          log(`[${n}] ${label(key)} ${i + 1}/${repeats}`);
          (runs[key] ??= []).push(await measureHerd(factory, c, n, join(workDir, `${n}-${c}-${w}-${i}`), w));
        }
      }
    }
    rows[n] = Object.fromEntries(
      Object.entries(runs).map(([c, rs]) => [
        c,
        {
          ...Object.fromEntries(KEYS.map((k) => [k, med(rs.map((r) => r[k]))])),
          spaces: rs.at(-1).spaces ?? null,
          errors: rs.at(-1).errors ?? null,
          delivery: rs.at(-1).delivery ?? null,
        },
      ]),
    );
    for (const [c, rs] of Object.entries(runs))
      if (rs.at(-1).snapshots?.length) snapshots[`${n}-${c}`] = { files: rs.at(-1).snapshots, held: rs.at(-1).held };
  }
  const load1 = loadavg()[0];

  console.log(
    `\nmemory per held idle connection — ${factory.label} ${factory.version}, loopback, ${INFLIGHT} in flight (herd: ${WORKERS} worker${WORKERS === 1 ? '' : 's'}), fresh source addresses per run (≥ 2, ≤ 8,000 connections each), medians of ${repeats}`,
  );
  console.log(`load average (1 min) ${load0.toFixed(2)} before, ${load1.toFixed(2)} after`);
  if (process.env.HERD_BENCH_V8_FLAGS)
    console.log(`experiment: workers ran with V8 flags ${process.env.HERD_BENCH_V8_FLAGS} (HERD_BENCH_V8_FLAGS)`);
  if (process.env.NODE_OPTIONS) console.log(`NODE_OPTIONS: ${process.env.NODE_OPTIONS}`);
  console.log('\nbytes per held connection (herd: Σ workers, after a forced GC at "go" and with every session held):');
  console.log(
    '| devices | client | held | RSS (no forced GC) | RSS at the hold’s end | RSS after GC | vs C | live (JS heap + malloc in use) | live JS heap | V8 committed | external | malloc in use | malloc from kernel | anonymous | CPU µs/conn |',
  );
  console.log('|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const n of sizes) {
    const r = rows[n];
    for (const [c, x] of Object.entries(r)) {
      const name = label(c);
      console.log(
        `| ${n.toLocaleString('en-US')} | ${name} | ${f0(x.held)} | ${f0(x.rss)} | ${f0(x.endRss)} | ${f0(x.gcRss)} | ${ratio(x.gcRss, r.c?.gcRss ?? null)} | ${f0(x.live)} | ${f0(x.heapUsed)} | ${f0(x.heapTotal)} | ${f0(x.external)} | ${f0(x.mallocInUse)} | ${f0(x.mallocHeld)} | ${f0(x.anon)} | ${x.cpuUs === null ? '—' : x.cpuUs.toFixed(0)} |`,
      );
    }
  }
  if (sizes.length >= 2) {
    const [a, b] = [sizes[0], sizes.at(-1)];
    console.log(
      `\nmarginal bytes per held connection, ${a.toLocaleString('en-US')} → ${b.toLocaleString('en-US')} (what one more session costs, without a run's fixed memory):`,
    );
    for (const c of Object.keys(rows[b])) {
      const x = rows[a][c];
      const y = rows[b][c];
      if (!x || !y || x.gcRssTotal === null || y.gcRssTotal === null || y.held === x.held) continue;
      const slope = (k) => (y[k] !== null && x[k] !== null ? (y[k] - x[k]) / (y.held - x.held) : null);
      const dEnd = slope('endRssTotal');
      const dHeap = slope('heapUsedTotal');
      console.log(
        `  ${label(c).padEnd(22)} RSS after GC ${f0(slope('gcRssTotal'))} B${dEnd === null ? '' : ` · RSS at the hold’s end ${f0(dEnd)} B`}${dHeap === null ? '' : ` · live JS heap ${f0(dHeap)} B`}`,
      );
    }
  }
  const fleets = workloads.filter((w) => w !== 'connect');
  if (fleets.length > 0) {
    console.log(
      '\nconnect rate, connect-only vs each fleet (telemetry; subscribe: its subscription step alone; publish: without the echo subscription) (completed over the wave and its p99 tail; wall-clock rates on a shared machine are noisy, CPU µs per connection less so):',
    );
    console.log(
      "(broker: Mosquitto's own CPU over the same window, per connection; busy = its share of one core, over the window and its busiest 250 ms: near 1.00 its one core is the limit)",
    );
    console.log(
      '| devices | client | connect-only conn/s | fleet conn/s | ratio | CPU µs/conn (kernel) connect-only | fleet | broker µs/conn connect-only | fleet | broker busy connect-only (peak) | fleet (peak) | delivered / sent |',
    );
    console.log('|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const n of sizes)
      for (const [c, w] of ['js', 'native'].flatMap((c) => fleets.map((w) => [c, w]))) {
        const a = rows[n][c];
        const t = rows[n][rowKey(c, w)];
        if (!a || !t) continue;
        const r = rateRatio(t, a);
        const d = t.delivery;
        console.log(
          `| ${n.toLocaleString('en-US')} | herd-${c} ${w} | ${f0(a.connPerS)} | ${f0(t.connPerS)} | ${r === null ? 'n/a' : `${r.toFixed(2)}×`} | ${cpuK(a)} | ${cpuK(t)} | ${cpu(a.brokerUs)} | ${cpu(t.brokerUs)} | ${busy(a)} | ${busy(t)} | ${d === null ? '—' : `${f0(d.delivered)} / ${f0(d.sent)}`} |`,
        );
      }
  }
  console.log(
    '\nset up before the origin, per planned device (the runner: per-slot rows, fleet; not in the figures above):',
  );
  for (const n of sizes) {
    for (const c of HERD_ROWS) {
      const x = rows[n][c];
      if (x)
        console.log(
          `  ${n.toLocaleString('en-US')} ${label(c).padEnd(22)} live JS heap ${f0(x.setupHeap)} B · external ${f0(x.setupExternal)} B · RSS ${f0(x.setupRss)} B`,
        );
    }
  }
  const big = rows[sizes.at(-1)];
  console.log(`\nV8 heap spaces, resident bytes per held connection at ${sizes.at(-1).toLocaleString('en-US')}:`);
  for (const c of HERD_ROWS) {
    const sp = big[c]?.spaces;
    if (sp)
      console.log(
        `  ${label(c).padEnd(22)} ${Object.entries(sp)
          .filter(([, v]) => Math.abs(v) >= 1)
          .map(([k, v]) => `${k} ${f0(v)}`)
          .join(' · ')}`,
      );
  }
  for (const [key, s] of Object.entries(snapshots)) {
    console.log(`\nheap snapshot ${key} (one worker of ${WORKERS}; per its ${f0(s.held / WORKERS)} sessions):`);
    for (const line of formatSummary(summariseSnapshot(s.files[0]), s.held / WORKERS, 20)) console.log(line);
  }
  // Reached only when both figures are within the limit: RSS after GC, and the live bytes (JS heap +
  // malloc in use), which pages given back during the hold cannot take below what the sessions keep.
  const goal = (label, x, limit) => {
    const rss = x?.gcRss ?? null;
    const live = x?.live ?? null;
    const ok = rss !== null && rss <= limit && (live === null || live <= limit);
    const figures =
      rss === null ? '' : ` (RSS after GC ${f0(rss)} B; live ${live === null ? 'not measured' : `${f0(live)} B`})`;
    console.log(`  ${rss === null ? 'not measured' : ok ? 'reached    ' : 'NOT reached'}  ${label}${figures}`);
  };
  console.log(`\ngoals (issue 17, at ${sizes.at(-1).toLocaleString('en-US')}):`);
  goal('native ≤ 1 KB per held idle connection', big.native, 1024);
  goal('js ≤ 3 KB per held idle connection', big.js, 3072);
  if (workloads.includes('telemetry')) {
    console.log(`goals (issue 26, at ${sizes.at(-1).toLocaleString('en-US')}: the QoS 1 telemetry fleet):`);
    goal('native telemetry ≤ 1 KB per held connection', big['native telemetry'], 1024);
    const r = rateRatio(big['native telemetry'], big.native);
    console.log(
      `  ${r === null ? 'not measured' : r >= 0.9 ? 'reached    ' : 'NOT reached'}  native telemetry connect rate within 10% of connect-only${r === null ? '' : ` (${r.toFixed(2)}×; noisy on a shared machine)`}`,
    );
  }
  writeSummary(workDir, { load0, load1, sizes, rows, snapshots });
  return 0;
}

runMain('memory', main);
