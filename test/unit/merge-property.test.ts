/**
 * herd merge is exact, checked as a property: one random run — per-worker,
 * per-second metric deltas, health samples, delivery streams, outages, downlink tallies, a dead
 * worker or an abort — is built the way `herd run` builds it (Aggregate → outcome → results), and
 * the same deltas split by worker into shards are built shard by shard, written as JSON, read back
 * through the reader and merged. The merged results.json must deep-equal the unsharded one, every
 * field, apart from the merge's own identity (run.id, run.mergedFrom).
 *
 * The split is by worker, as sharding splits devices: worker w of shard i is worker
 * (i − 1) × 1000 + w of the whole run. Shards given --start-at share one origin.
 */
import { mergeNameTallies, type NameTally } from '../../src/results/names.js';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RunOutcome } from '../../src/engine/coordinator.js';
import { Aggregate } from '../../src/metrics/aggregate.js';
import { DeliveryTracker } from '../../src/metrics/delivery.js';
import { createHistogram, encodeHistogram, summarize } from '../../src/metrics/histogram.js';
import type { HealthSample } from '../../src/metrics/health-sample.js';
import { LATENCY_KEYS } from '../../src/metrics/names.js';
import { emptyCounters, type CounterDelta, type MetricsDelta } from '../../src/metrics/recorder.js';
import { checkResults } from '../../src/results/read.js';
import type { AbortKind, Environment, Results, WebhookResult, WorkerHealth } from '../../src/results/types.js';
import { buildResults, type BuildInput } from '../../src/run/build-results.js';
import { mergeResults } from '../../src/run/merge.js';
import { outcomeOfRun } from '../../src/run/outcome.js';
import { validateScenario } from '../../src/scenario/validate.js';
import { parseScenarioText } from '../../src/scenario/load.js';

/**
 * 1,000 draws take ~10 minutes of one core (building and summarising the histograms of every shard), too much for
 * `npm test` on 2 cores: it runs 150, and HERD_MERGE_PROPERTY_RUNS=1000 runs the full property.
 */
const RUNS = Number(process.env['HERD_MERGE_PROPERTY_RUNS'] ?? 150);

const SCENARIO = `name: merge-property
devices: 120
seed: 7
device: { keepalive: 30s }
cohorts:
  - { name: telemetry, share: 50%, device: { publish: { every: 1s, qos: 1 }, requests: { every: 2s } } }
  - { name: commands, share: 50%, device: { cleanSession: false, downlink: { every: 2s, qos: 1 } } }
waves:
  - { type: ramp, over: 2s }
  - { type: outage, name: cut, at: 1s, offline: 1s, mode: reset }
  - { type: outage, name: blip, at: 3s, offline: 1s, mode: disconnect }
hold: 3s
thresholds:
  connect.total: ["p(99) < 300ms", "p(50) < 100ms"]
  connect.service: ["p(90) < 250ms"]
  errors.rate: ["< 10%"]
  attempts.timedOut: ["< 3"]
  delivery.lost: ["== 0"]
  downlink.lost: ["< 5"]
  requests.lost: ["== 0"]
  recovery.p99: ["< 1500ms"]
`;
const loaded = validateScenario(parseScenarioText(SCENARIO, 'merge-property.yaml'), 'merge-property.yaml');
const COHORTS = loaded.resolved.cohorts.map((c) => c.name);
const OUTAGES = loaded.resolved.outageWindows.length;
const DURATION_S = Math.floor(loaded.resolved.durationUs / 1e6);

const ENVIRONMENT: Environment = {
  herdVersion: 'test',
  node: 'v20',
  platform: 'linux',
  release: '6',
  arch: 'x64',
  cpus: 2,
  cpuModel: 'test',
  totalMemoryBytes: 8e9,
  openFileLimit: { soft: 1024, hard: 4096 },
  ephemeralPortRange: [32768, 60999],
};
const ERROR_KEYS = [
  'network|tcpConnect|ECONNREFUSED',
  'network|held|ECONNRESET',
  'timeout|mqttConnack|TIMEOUT',
  'protocol|mqttConnack|CONNACK_5',
  'local|tcpConnect|EMFILE',
];
const SIGNALS = ['CONNACK_87', 'DISCONNECT_142', 'takenOver', 'keepaliveAdopted'];
const TALLIES = [
  'downlink.sent',
  'downlink.received',
  'downlink.duplicated',
  'downlink.tooLate',
  'downlink.notSent',
  'sessions.resumed',
  'sessions.lost',
  'replay.sessions',
  'replay.backlog',
  'replay.messages',
  'replay.drained',
  'replay.undrained',
];
const PER_SHARD = 1000;

/** mulberry32: the run is drawn from one seed fast-check picks (and reports when a run fails). */
function rng(seed: number): {
  int(lo: number, hi: number): number;
  chance(p: number): boolean;
  pick<T>(xs: readonly T[]): T;
} {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    chance: (p) => next() < p,
    pick: (xs) => xs[Math.floor(next() * xs.length)] as (typeof xs)[number],
  };
}
type Rng = ReturnType<typeof rng>;

/** Encoded histograms drawn from a pool made once: encoding is the slow part, and any mix of them merges alike. */
const POOL = new Map<number, string[]>();
function encoded(r: Rng, maxUs: number): string {
  let pool = POOL.get(maxUs);
  if (!pool) {
    const seeded = rng(maxUs);
    pool = Array.from({ length: 24 }, () => {
      const h = createHistogram();
      for (let i = 0, n = seeded.int(1, 6); i < n; i++) h.recordValue(seeded.int(0, maxUs));
      const e = encodeHistogram(h);
      h.destroy();
      return e;
    });
    POOL.set(maxUs, pool);
  }
  return r.pick(pool);
}

interface WorkerRun {
  shard: number;
  local: number;
  deltas: { delta: MetricsDelta; loopDelayP99Us: number | null; rssBytes: number | null }[];
  samples: { t: number; sample: HealthSample }[];
  health: Omit<WorkerHealth, 'worker'>;
  planned: number;
  inFlightAtEnd: number;
  lostToHarness: number;
  /** Delivery events of this worker's devices, by cohort: [stream, sent, received seqs]. */
  streams: Record<string, [string, number, number[]][]>;
  foreign: number;
  failure: string | null;
  webhook: { counts: number[]; latencyUs: number[] };
}

/** Counters whose attempts add up (started = outcomes of started attempts); planned is set per worker to balance. */
function counters(r: Rng, calm: boolean): CounterDelta {
  const c = emptyCounters();
  for (const k of Object.keys(c) as (keyof CounterDelta)[]) c[k] = r.chance(0.6) ? r.int(0, 9) : 0;
  if (calm) {
    c.failed = 0;
    c.timedOut = 0;
    c.dropped = 0;
    c.requestsAnswered = c.requestsSent;
  }
  c.started = c.succeeded + c.failed + c.timedOut;
  c.reconnects = Math.min(c.reconnects, c.started + c.dropped + c.offlineAttempts);
  // A worker only counts answers to requests it sent.
  c.requestsAnswered = Math.min(c.requestsAnswered, c.requestsSent);
  return c;
}

function delta(r: Rng, t: number, calm: boolean): MetricsDelta {
  const histograms: MetricsDelta['histograms'] = {};
  for (const k of LATENCY_KEYS) if (r.chance(0.06)) histograms[k] = encoded(r, calm ? 90_000 : 900_000);
  const errors: Record<string, number> = {};
  for (const k of ERROR_KEYS) if (!calm && r.chance(k.startsWith('local') ? 0.04 : 0.3)) errors[k] = r.int(1, 4);
  const cohorts: MetricsDelta['cohorts'] = {};
  for (const name of COHORTS) {
    if (!r.chance(0.7)) continue;
    const h: MetricsDelta['histograms'] = {};
    for (const k of ['connect.total', 'phase.mqttConnack', 'connect.failed'] as const)
      if (r.chance(0.25)) h[k] = encoded(r, 500_000);
    const e: Record<string, number> = {};
    for (const k of ERROR_KEYS) if (r.chance(0.2)) e[k] = r.int(1, 3);
    cohorts[name] = {
      counters: { started: r.int(0, 5), succeeded: r.int(0, 5), failed: r.int(0, 2), timedOut: r.int(0, 1) },
      histograms: h,
      errors: e,
    };
  }
  const outages: MetricsDelta['outages'] = {};
  for (let i = 0; i < OUTAGES; i++) {
    if (!r.chance(0.2)) continue;
    const d = r.int(0, 3);
    outages[String(i)] = {
      ...(calm ? { dropped: d, recovered: d } : { dropped: r.int(0, 4), recovered: r.int(0, 3) }),
      ...(r.chance(0.7) ? { recoveryUs: encoded(r, calm ? 900_000 : 3_000_000) } : {}),
      ...(r.chance(0.7) ? { attempts: encoded(r, 6) } : {}),
    };
  }
  const signals: Record<string, number> = {};
  for (const k of SIGNALS) if (r.chance(0.2)) signals[k] = r.int(1, 3);
  const tallies: Record<string, number> = {};
  for (const k of TALLIES) for (const c of COHORTS) if (r.chance(0.25)) tallies[`${k}|${c}`] = r.int(0, 5);
  if (calm) for (const c of COHORTS) tallies[`downlink.received|${c}`] = (tallies[`downlink.sent|${c}`] ?? 0) + 1;
  const handshaking = r.int(0, 8);
  return {
    t,
    counters: counters(r, calm),
    histograms,
    errors,
    cohorts,
    outages,
    signals,
    tallies,
    connected: r.int(0, 40),
    handshaking,
    peakHandshaking: handshaking + r.int(0, 5),
  };
}

function sample(r: Rng, calm: boolean): HealthSample {
  const hot = !calm && r.chance(0.3);
  return {
    loopDelayP99Us: hot && r.chance(0.5) ? r.int(200_001, 400_000) : r.int(0, 50_000),
    loopDelayMaxUs: r.int(0, 500_000),
    loopUtilisation: hot && r.chance(0.5) ? 0.97 : r.int(0, 90) / 100,
    cpuPercent: r.int(0, 100),
    rssBytes: r.int(1, 9) * 1e7,
    openFiles: r.int(10, 500),
    scheduleLagMaxUs: hot && r.chance(0.4) ? r.int(1_000_001, 2_000_000) : r.int(0, 100_000),
  };
}

function workerRun(r: Rng, shard: number, local: number, calm: boolean): WorkerRun {
  const seconds = r.int(1, DURATION_S + 1);
  const streams: WorkerRun['streams'] = {};
  for (const c of COHORTS) {
    streams[c] = Array.from({ length: r.int(0, 3) }, (_v, d) => {
      const sent = r.int(0, 8);
      const received = calm
        ? Array.from({ length: sent }, (_x, i) => i)
        : Array.from({ length: r.int(0, sent + 2) }, () => r.int(0, Math.max(0, sent)));
      return [`s${shard}-w${local}-d${d}`, sent, received];
    });
  }
  const deltas = Array.from({ length: seconds }, (_v, t) => ({
    delta: delta(r, t, calm),
    loopDelayP99Us: r.chance(0.8) ? r.int(0, 300_000) : null,
    rssBytes: r.chance(0.8) ? r.int(1, 9) * 1e7 : null,
  }));
  // Balanced accounting: planned + reconnects = every outcome, the ones still in flight included.
  const inFlightAtEnd = r.int(0, 3);
  (deltas.at(-1) as (typeof deltas)[number]).delta.counters.started += inFlightAtEnd;
  const sum = (k: keyof CounterDelta): number => deltas.reduce((a, d) => a + d.delta.counters[k], 0);
  const planned =
    sum('succeeded') +
    sum('failed') +
    sum('timedOut') +
    sum('dropped') +
    sum('offlineAttempts') +
    inFlightAtEnd -
    sum('reconnects');
  return {
    shard,
    local,
    deltas,
    samples: Array.from({ length: seconds }, (_v, t) => ({ t, sample: sample(r, calm) })),
    health: {
      devices: r.int(1, 60),
      peakLoopDelayP99Us: r.int(0, 300_000),
      peakLoopUtilisation: r.int(0, 100) / 100,
      peakCpuPercent: r.int(0, 100),
      peakRssBytes: r.int(1, 9) * 1e7,
      peakOpenFiles: r.int(10, 500),
      peakScheduleLagUs: r.int(0, 2_000_000),
      exitedEarly: false,
      warmUp: r.int(0, 1) === 0 ? null : { handshakes: r.int(2, 4096), elapsedMs: r.int(0, 3_000) },
    },
    planned,
    inFlightAtEnd,
    lostToHarness: 0,
    streams,
    foreign: !calm && r.chance(0.2) ? r.int(1, 3) : 0,
    failure: null,
    webhook: {
      counts: Array.from({ length: 9 }, () => r.int(0, 20)),
      latencyUs: Array.from({ length: r.int(0, 5) }, () => r.int(1, 800_000)),
    },
  };
}

function webhookOf(ws: readonly WorkerRun[]): WebhookResult {
  const sum = (i: number): number => ws.reduce((a, w) => a + (w.webhook.counts[i] as number), 0);
  const h = createHistogram();
  for (const w of ws) for (const v of w.webhook.latencyUs) h.recordValue(v);
  const [sent, received, delivered, lost, duplicated, outOfOrder, tooLate, foreign, malformed] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8,
  ].map(sum) as number[];
  const out: WebhookResult = {
    sent: sent as number,
    received: received as number,
    delivered: delivered as number,
    lost: lost as number,
    duplicated: duplicated as number,
    outOfOrder: outOfOrder as number,
    tooLate: tooLate as number,
    foreign: foreign as number,
    malformed: malformed as number,
    rejected: 0,
    lossRate: sent === 0 ? 0 : (lost as number) / (sent as number),
    latency: h.totalCount === 0 ? null : summarize(h),
  };
  h.destroy();
  return out;
}

interface Part {
  workers: WorkerRun[];
  /** How a worker is numbered in this part: locally in a shard, globally in the whole run. */
  id: (w: WorkerRun) => number;
  startedAtMs: number;
  endedAtMs: number;
  abort: { atMs: number; reason: string; kind: AbortKind } | null;
}

function runOutcome(p: Part, startAtMs: number | null, shard: { index: number; count: number }): RunOutcome {
  const aggregate = new Aggregate();
  for (const w of p.workers)
    for (const d of w.deltas) aggregate.add(p.id(w), structuredClone(d.delta), d.loopDelayP99Us, d.rssBytes);
  const delivery = new Map<string, DeliveryTracker>();
  for (const c of ['telemetry']) {
    const tracker = new DeliveryTracker();
    for (const w of p.workers) {
      for (const [stream, sent, received] of w.streams[c] ?? []) {
        tracker.recordSent(stream, sent);
        for (const seq of received) tracker.recordReceived(stream, seq, 1000);
      }
      for (let i = 0; i < w.foreign; i++) tracker.recordForeign();
    }
    delivery.set(c, tracker);
  }
  return {
    aggregate,
    planned: p.workers.reduce((a, w) => a + w.planned, 0),
    inFlightAtEnd: p.workers.reduce((a, w) => a + w.inFlightAtEnd, 0),
    startedAtMs: p.startedAtMs,
    endedAtMs: p.endedAtMs,
    abort: p.abort,
    shard,
    startAtMs,
    workers: p.workers.map((w) => ({ worker: p.id(w), ...w.health })),
    healthSamples: p.workers.flatMap((w) => w.samples.map((s) => ({ worker: p.id(w), t: s.t, sample: s.sample }))),
    delivery,
    lostToHarness: p.workers.reduce((a, w) => a + w.lostToHarness, 0),
    workerFailures: p.workers.filter((w) => w.failure !== null).map((w) => `worker ${p.id(w)} ${w.failure}`),
  };
}

function draw(seed: number): { whole: Results; shards: Results[] } {
  const r = rng(seed);
  const count = r.int(1, 4);
  // A calm run: no errors, drops or harness trouble, so its thresholds can pass.
  const calm = r.chance(0.4);
  const workers: WorkerRun[] = [];
  for (let s = 1; s <= count; s++) for (let l = 0, n = r.int(1, 2); l < n; l++) workers.push(workerRun(r, s, l, calm));
  // A worker that died (--on-worker-failure continue, or abort) loses its attempts to the harness.
  const dead = r.chance(0.3) ? r.pick(workers) : null;
  if (dead) {
    dead.failure = `exited unexpectedly (SIGKILL) near t=${r.int(1, 5)}s: ${r.int(1, 9)} of its attempts lost to the harness`;
    dead.lostToHarness = r.int(1, 9);
    dead.planned += dead.lostToHarness;
    dead.health.exitedEarly = true;
  }
  const abortKind: AbortKind | null = dead && r.chance(0.5) ? 'worker-failed' : r.chance(0.15) ? 'interrupted' : null;
  const abortShard = abortKind === 'worker-failed' ? (dead as WorkerRun).shard : r.int(1, count);
  const startAtMs = r.chance(0.5) ? 1_800_000_000_000 : null;
  const started = Array.from({ length: count }, () => startAtMs ?? 1_800_000_000_000 + r.int(0, 900));
  const ended = started.map((s) => s + r.int(DURATION_S * 1000, DURATION_S * 1000 + 3000));
  const abortAt = Math.min(...started) + r.int(500, DURATION_S * 1000);
  const reason = (id: number): string =>
    abortKind === 'worker-failed' ? `worker ${id} exited unexpectedly (SIGKILL)` : 'SIGINT';
  const deadGlobal = dead ? (dead.shard - 1) * PER_SHARD + dead.local : 0;
  const wholePart: Part = {
    workers,
    id: (w) => (w.shard - 1) * PER_SHARD + w.local,
    startedAtMs: Math.min(...started),
    endedAtMs: Math.max(...ended),
    abort: abortKind === null ? null : { atMs: abortAt, kind: abortKind, reason: reason(deadGlobal) },
  };
  const shardParts: Part[] = Array.from({ length: count }, (_v, i) => ({
    workers: workers.filter((w) => w.shard === i + 1),
    id: (w) => w.local,
    startedAtMs: started[i] as number,
    endedAtMs: ended[i] as number,
    abort:
      abortKind !== null && abortShard === i + 1
        ? { atMs: abortAt, kind: abortKind, reason: reason(dead?.local ?? 0) }
        : null,
  }));
  const withWebhook = r.chance(0.5);
  const settings = {
    allowSaturated: r.chance(0.3),
    maxHandshakesPerWorker: r.pick([0, 50]),
    sharesMachine: r.chance(0.5),
    warmUp: r.chance(0.5),
  };
  // Per shard, its workers' tallies of the targets given by name (none half the time); the whole
  // run's workers are the shards' workers, so its tally is theirs summed.
  const hosts = r.chance(0.5) ? [] : ['a.invalid', 'b.invalid'].slice(0, r.int(1, 2));
  const shardNames: NameTally[][] = shardParts.map(() =>
    hosts.map((host) => ({
      host,
      lookups: r.int(1, 5),
      failedLookups: r.int(0, 1),
      addresses: Object.fromEntries(
        ['127.0.0.1', '127.0.0.2'].slice(0, r.int(1, 2)).map((a) => {
          const succeeded = r.int(0, 900);
          const failed = r.int(0, 9);
          return [a, { attempts: succeeded + failed + r.int(0, 3), succeeded, failed }];
        }),
      ),
    })),
  );
  const wholeNames = shardNames.reduce<NameTally[]>((all, n) => mergeNameTallies(all, n), []);
  const input = (
    runId: string,
    shard: BuildInput['shard'],
    o: RunOutcome,
    webhook: WebhookResult | null,
    names: NameTally[],
  ): BuildInput => ({
    runId,
    shard,
    mergedFrom: null,
    scenario: loaded.resolved,
    thresholds: loaded.thresholds,
    environment: ENVIRONMENT,
    outcome: outcomeOfRun(o, loaded.resolved, webhook),
    target: 'mqtt://127.0.0.1:1883',
    embeddedTarget: false,
    embeddedTargetKnobs: null,
    targetLag: null,
    engines: null,
    names,
    ...settings,
  });
  const whole = buildResults(
    input(
      'whole',
      null,
      runOutcome(wholePart, startAtMs, { index: 0, count: 1 }),
      withWebhook ? webhookOf(workers) : null,
      wholeNames,
    ),
  );
  const shards = shardParts.map((p, i) => {
    const shard = { index: i, count };
    const results = buildResults(
      input(
        `shard-${i + 1}`,
        count > 1 ? { index: i + 1, count } : null,
        runOutcome(p, startAtMs, shard),
        withWebhook ? webhookOf(p.workers) : null,
        shardNames[i] ?? [],
      ),
    );
    // Written and read back as `herd merge` reads a shard's file.
    return checkResults(JSON.parse(JSON.stringify(results)), `shard-${i + 1}.json`);
  });
  return { whole, shards };
}

describe('herd merge equals the unsharded run', () => {
  it(
    `over ${RUNS} random splits of a run into shards, every field`,
    () => {
      let checked = 0;
      const kinds = new Set<string>();
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
          const { whole, shards } = draw(seed);
          const merged = mergeResults(
            shards.map((s, i) => ({ path: `shard-${i + 1}.json`, results: s })),
            'merged',
          );
          const expected = structuredClone({
            ...whole,
            run: { ...whole.run, id: 'merged', mergedFrom: shards.map((s) => s.run.id) },
          });
          const got: unknown = JSON.parse(JSON.stringify(merged));
          const want: unknown = JSON.parse(JSON.stringify(expected));
          // node's deep equality is the fast check; vitest's gives the readable difference when it fails.
          if (!isDeepStrictEqual(got, want)) expect(got).toEqual(want);
          checked++;
          kinds.add(`${shards.length}:${whole.run.exitCode}`);
        }),
        { numRuns: RUNS },
      );
      // The draws reach every shard count and every exit code a run can have.
      expect(checked).toBe(RUNS);
      for (const n of [1, 2, 3, 4])
        expect(
          [...kinds].some((k) => k.startsWith(`${n}:`)),
          `${n} shards`,
        ).toBe(true);
      for (const code of [0, 1, 3, 130])
        expect(
          [...kinds].some((k) => k.endsWith(`:${code}`)),
          `exit ${code}`,
        ).toBe(true);
      process.stdout.write(
        `merge property: ${checked} random splits, merged results deep-equal the unsharded run (${[...kinds].sort().join(' ')})\n`,
      );
    },
    RUNS * 2_000,
  );
});
