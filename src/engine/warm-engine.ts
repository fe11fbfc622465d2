/**
 * Warms the whole engine a worker is about to run — scheduler, device table, the run's own device
 * kinds and connect engine (native or JavaScript), fleet, recorder, every session listener — by
 * running it: a real Runner, over the run's own cohorts, against a throwaway MQTT listener this
 * worker opens on loopback (warm-up.ts), never against the target. A storm then starts on code V8
 * has already optimised: compiling the connect path while the storm runs cost each worker about as
 * much CPU as the storm's own JavaScript (docs/performance.md, "Warm start").
 *
 * Only what can be exercised without the target is: MQTT cohorts over plain TCP, with their
 * connect engine, protocol version, client ids and keepalive, connecting and ending cleanly.
 * Telemetry, TLS, outages and churn are left cold (their code is not what a connect storm runs).
 */
import { performance } from 'node:perf_hooks';
import { closeNativeCore } from '../protocols/native/core.js';
import { buildPlan, idsFor } from '../plan/plan.js';
import type { ResolvedCohort, ResolvedScenario } from '../results/resolved-scenario.js';
import { clockFromOrigin, engineClock, monotonicNowNs } from '../util/clock.js';
import { Runner } from './runner.js';
import { workerRunnerOptions } from './runner-options.js';
import type { SessionListener } from './session-life.js';
import { throwawayListener, type WarmUpResult } from './warm-up.js';

/** Handshakes per worker at most: V8 had optimised the connect path after ~3,000–4,000 (--trace-opt). */
export const WARM_ENGINE_HANDSHAKES = 4096;
/**
 * Handshakes in flight at most: the run's cap when lower. An uncapped spike of thousands would
 * overflow the listener's accept queue (SYN retransmits: seconds of warm-up for nothing).
 */
const WARM_IN_FLIGHT = 64;
/** Bound on each round: past it, the round's teardown ends what is left (the run still starts). */
const DEADLINE_MS = 3_000;

/** What a worker needs to warm the engine it will run (messages.ts WorkerWarm carries it). */
export interface WarmEngineSpec {
  /** The run's resolved scenario (targets are not used: the warm-up has its own listener). */
  scenario: ResolvedScenario;
  maxHandshakesInFlight: number;
  maxPacketBytes: number;
  runId: string;
  workerIndex: number;
  workerCount: number;
  /** The run binds source addresses: the warm-up binds 127.0.0.1, so that path is warm too. */
  bindsSources: boolean;
  /** Handshakes in all (two rounds): warmHandshakes() of the worker's share of the devices. */
  handshakes: number;
}

/** Handshakes for a worker that will open `devices`: as many, up to WARM_ENGINE_HANDSHAKES, in two rounds of ≥ 1. */
export function warmHandshakes(devices: number): number {
  return Math.max(2, Math.min(WARM_ENGINE_HANDSHAKES, Math.ceil(devices / 2) * 2));
}

/** Worker `worker.index`'s warm-up in a run of this shard. */
export function warmSpecFor(o: {
  scenario: ResolvedScenario;
  runId: string;
  shard: { index: number; count: number };
  worker: { index: number; count: number };
  maxHandshakesInFlight: number;
  maxPacketBytes: number;
  sourceIps: readonly string[];
}): WarmEngineSpec {
  return {
    scenario: o.scenario,
    maxHandshakesInFlight: o.maxHandshakesInFlight,
    maxPacketBytes: o.maxPacketBytes,
    runId: o.runId,
    workerIndex: o.worker.index,
    workerCount: o.worker.count,
    bindsSources: o.sourceIps.length > 0,
    handshakes: warmHandshakes(idsFor(o.scenario.devices, o.shard, o.worker).length),
  };
}

/** The cohorts a warm-up can run (MQTT over plain TCP or TLS, run over plain TCP), as plain-TCP cohorts. */
export function warmCohorts(cohorts: readonly ResolvedCohort[]): ResolvedCohort[] {
  return cohorts
    .filter((c) => c.device.protocol === 'mqtt')
    .map((c) => ({
      ...c,
      targets: null,
      reconnect: { policy: 'none' },
      device: { ...c.device, transport: 'mqtt', tls: null, publish: null, requests: null, downlink: null },
    }));
}

/**
 * The warm-up's scenario: the run's MQTT cohorts (shares kept, renormalised) in one burst of
 * `handshakes` devices at t = 0, nothing else planned.
 */
export function warmScenario(s: ResolvedScenario, handshakes: number): ResolvedScenario | null {
  const cohorts = warmCohorts(s.cohorts);
  if (cohorts.length === 0) return null;
  const total = cohorts.reduce((a, c) => a + c.share, 0);
  let left = handshakes;
  const shared = cohorts.map((c, i) => {
    const devices = i === cohorts.length - 1 ? left : Math.floor((handshakes * c.share) / total);
    left -= devices;
    return { ...c, share: c.share / total, devices };
  });
  // Through JSON, as the run's own scenario reaches a worker: objects of the same shapes, so the
  // code optimised on the warm-up's scenario is still valid for the run's.
  const warm: ResolvedScenario = {
    ...s,
    name: `${s.name} (warm-up)`,
    devices: handshakes,
    cohorts: shared,
    waves: [{ type: 'spike', name: 'warm-up', atUs: 0, devices: handshakes }],
    outageWindows: [],
    declaredOutages: [],
    observedOutages: null,
    holdUs: 0,
    durationUs: DEADLINE_MS * 1000,
    thresholds: {},
  };
  return JSON.parse(JSON.stringify(warm)) as ResolvedScenario;
}

/**
 * Runs the warm-up; null when the run has no cohort it can warm. Every session is ended (herd
 * sends DISCONNECT, the listener closes first) and the listener closed before it resolves.
 */
export async function warmEngine(o: WarmEngineSpec): Promise<WarmUpResult | null> {
  // Two Runners, one after the other: the second one's objects are what the run's will be to the
  // first (V8's call feedback has then seen a Runner's closures more than once).
  const half = Math.max(1, Math.floor(o.handshakes / 2));
  const a = await warmRound(o, half);
  if (a === null) return null;
  const b = await warmRound(o, half);
  return { handshakes: a.handshakes + (b?.handshakes ?? 0), elapsedMs: a.elapsedMs + (b?.elapsedMs ?? 0) };
}

async function warmRound(o: WarmEngineSpec, handshakes: number): Promise<WarmUpResult | null> {
  const scenario = warmScenario(o.scenario, handshakes);
  if (scenario === null) return null;
  const started = performance.now();
  const { server, sockets } = await throwawayListener();
  const port = (server.address() as { port: number }).port;
  let connected = 0;
  let ended = 0;
  let runner: Runner | null = null;
  // Once every attempt has its outcome the round ends (a failure, say EADDRNOTAVAIL, is warm code too).
  const outcome = (): void => {
    if (++ended >= handshakes) runner?.stop();
  };
  const counter: SessionListener = {
    connected: () => {
      connected++;
      outcome();
    },
    failed: outcome,
  };
  const plan = buildPlan(scenario);
  runner = new Runner(
    workerRunnerOptions({
      runId: o.runId,
      workerIndex: o.workerIndex,
      workerCount: o.workerCount,
      scenario,
      plan,
      ids: idsFor(plan.devices, { index: 0, count: 1 }, { index: 0, count: 1 }),
      targets: scenario.cohorts.map(() => [`mqtt://127.0.0.1:${port}`]),
      sourceIps: o.bindsSources ? ['127.0.0.1'] : [],
      shardIndex: 0,
      shardCount: 1,
      maxHandshakesInFlight: Math.min(WARM_IN_FLIGHT, o.maxHandshakesInFlight || WARM_IN_FLIGHT),
      maxPacketBytes: o.maxPacketBytes,
      clock: engineClock(clockFromOrigin(monotonicNowNs())),
      listeners: [counter],
      emit: () => {},
    }),
  );
  try {
    await runner.run();
  } finally {
    closeNativeCore(runner);
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  return { handshakes: connected, elapsedMs: performance.now() - started };
}
