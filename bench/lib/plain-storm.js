/**
 * The plain-TCP connect storm of bench/native.js and bench/table.js: the C reference client
 * (bench/c/mqtt_ref.c), herd `engine: native` and herd `engine: js` against a fresh private
 * Mosquitto per measurement, each over fresh source addresses (never the previous run's), 64
 * handshakes in flight (herd: --max-handshakes 32 × 2 workers; C: --inflight 64), herd counted to
 * its last CONNACK as the C client counts. With `oneWorker`, herd `engine: native` also runs as
 * one process (1 worker, 64 in flight), as the C client runs: on two cores that Mosquitto shares,
 * two workers and the broker are three busy processes on two cores, one worker and the broker two.
 * Returns medians per size; prints nothing but progress.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadNative } from '../../dist/protocols/native/binding.js';
import { runReference } from './cref.js';
import { runHerd } from './herd.js';
import { median } from './procs.js';
import { withBroker } from './targets.js';
import { formatTimeWait, timeWaitBy } from './tcp-state.js';

export const INFLIGHT = 64;
export const WORKERS = 2;
const log = (m) => process.stderr.write(`${m}\n`);

/**
 * Fresh addresses for one measurement, with the TIME_WAIT already on them logged: 2 for the C client
 * and the native core, and for herd-js one per `jsPerAddress` connections (at least 2).
 */
export function sourcesFor(pool, client, devices, jsPerAddress) {
  const k = client === 'js' ? Math.max(2, Math.ceil(devices / jsPerAddress)) : 2;
  const out = [];
  while (out.length < k) out.push(...pool.take(0).slice(0, k - out.length));
  log(`  ${client}: ${out.join(', ')} — ${formatTimeWait(timeWaitBy(out))}`);
  return out;
}

/**
 * One herd measurement of `devices` at the ceiling (100,000/s offered, 64 in flight), with the herd
 * of `o.repoRoot` (and the probe of `o.probeRoot`, default the same tree).
 */
export async function herdCeiling(o, engine, devices, runDir, sources, workers = WORKERS) {
  mkdirSync(runDir, { recursive: true });
  return withBroker(o.factory, (t) =>
    runHerd({
      repoRoot: o.repoRoot,
      probePath: join(o.probeRoot ?? o.repoRoot, 'bench/lib/probe.js'),
      runDir,
      target: t,
      devices,
      ratePerS: 100_000,
      holdMs: 11_000,
      workers,
      maxHandshakes: INFLIGHT / workers,
      sources,
      timeoutMs: 180_000,
      gcSamples: true,
      engine,
    }),
  );
}

export const med = (xs) => {
  const ok = xs.filter((x) => typeof x === 'number' && Number.isFinite(x));
  return ok.length ? median(ok) : null;
};

/**
 * @param {{ repoRoot: string, factory: object, ref: object, pool: object, sizes: number[], repeats: number,
 *   jsPerAddress: number, workDir: string, prefix?: string, oneWorker?: boolean }} o
 * @returns {Promise<{ n: number, c: object, js: object, native: object | null, native1: object | null }[]>}
 */
export async function measurePlain(o) {
  // native1: the native engine as one process (one worker), beside the default two.
  const engines = loadNative() === null ? ['js'] : o.oneWorker ? ['js', 'native', 'native1'] : ['js', 'native'];
  const rows = [];
  for (const n of o.sizes) {
    const runs = { c: [], js: [], native: [], native1: [] };
    for (let i = 0; i < o.repeats; i++) {
      if ('binary' in o.ref) {
        log(`[${n}] C reference ${i + 1}/${o.repeats}`);
        runs.c.push(
          await withBroker(o.factory, (t) =>
            runReference(o.ref.binary, {
              target: t,
              count: n,
              inflight: INFLIGHT,
              sources: sourcesFor(o.pool, 'c', n, o.jsPerAddress),
              holdMs: 2_000,
              prefix: `${o.prefix ?? 'nref'}${n}-${i}`,
              timeoutMs: 120_000,
            }),
          ),
        );
      }
      for (const engine of engines) {
        log(`[${n}] herd-${engine} ${i + 1}/${o.repeats}`);
        const sources = sourcesFor(o.pool, engine, n, o.jsPerAddress);
        const [kind, workers] = engine === 'native1' ? ['native', 1] : [engine, WORKERS];
        runs[engine].push(await herdCeiling(o, kind, n, join(o.workDir, `${n}-${engine}-${i}`), sources, workers));
      }
    }
    // Each herd run against the C run just before it: the machine drifts between minutes (the C
    // client's own rate moved 12,636 → 22,454/s in a day), so a ratio of adjacent runs is steadier
    // than a ratio of medians taken apart. Their lowest and highest go beside the median: on a shared
    // machine one pair can move by a third.
    const paired = (engine, herdOf, cOf) => {
      const xs = runs[engine]
        .map((r, i) => (runs.c[i] === undefined ? null : herdOf(r) / cOf(runs.c[i])))
        .filter((x) => typeof x === 'number' && Number.isFinite(x));
      return { median: med(xs), spread: xs.length < 2 ? null : [Math.min(...xs), Math.max(...xs)] };
    };
    /** `{ [name]: median, [name + 'Spread']: [lowest, highest] | null }` */
    const vsC = (name, p) => ({ [name]: p.median, [`${name}Spread`]: p.spread });
    const herdRow = (engine) => ({
      client: `herd-${engine}`,
      ...vsC(
        'perSVsC',
        paired(
          engine,
          (r) => r.completedAllPerS,
          (c) => c.handshakesPerS,
        ),
      ),
      ...vsC(
        'cpuVsC',
        paired(
          engine,
          (r) => r.cpu.usPerConnection,
          (c) => c.cpuUsPerConnection,
        ),
      ),
      perS: med(runs[engine].map((r) => r.completedAllPerS)),
      cpuUs: med(runs[engine].map((r) => r.cpu.usPerConnection)),
      kernelUs: med(runs[engine].map((r) => r.cpu.kernelUsPerConnection)),
      bytes: med(runs[engine].map((r) => r.memory.afterGc?.rssBytesPerConnection ?? r.memory.rssBytesPerConnection)),
      // Live JavaScript heap after a forced GC: what the sessions themselves keep, free of the
      // storm's garbage that RSS still carries (pages V8 and malloc have not returned).
      heapBytes: med(runs[engine].map((r) => r.memory.afterGc?.heapUsedBytesPerConnection ?? null)),
      // What the held sessions keep alive (JS heap + malloc in use, after GC), whenever pages are given
      // back: the warm-up's, returned during the hold, can take the RSS figure below zero.
      liveBytes: med(
        runs[engine].map((r) => {
          const g = r.memory.afterGc;
          return g?.heapUsedBytesPerConnection == null || g?.mallocInUseBytesPerConnection == null
            ? null
            : g.heapUsedBytesPerConnection + g.mallocInUseBytesPerConnection;
        }),
      ),
      ok: med(runs[engine].map((r) => r.attempts.succeeded)),
    });
    const c = {
      client: 'C reference',
      perS: med(runs.c.map((r) => r.handshakesPerS)),
      cpuUs: med(runs.c.map((r) => r.cpuUsPerConnection)),
      kernelUs: med(runs.c.map((r) => r.sysUsPerConnection ?? null)),
      bytes: med(runs.c.map((r) => r.bytesPerHeldConnection)),
      heapBytes: null,
      liveBytes: null,
      ok: med(runs.c.map((r) => r.succeeded)),
    };
    const row = (engine) => (runs[engine].length ? herdRow(engine) : null);
    rows.push({ n, c, js: herdRow('js'), native: row('native'), native1: row('native1') });
  }
  return rows;
}
