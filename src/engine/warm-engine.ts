/**
 * Warms the whole engine a worker is about to run — scheduler, device table, the run's own device
 * kinds and connect engine (native or JavaScript), fleet, recorder, every session listener — by
 * running it: a real Runner, over the run's own cohorts, against a throwaway MQTT listener this
 * worker opens on loopback (warm-up.ts), never against the target. A storm then starts on code V8
 * has already optimised: compiling the connect path while a 15k storm ran was about a fifth of
 * herd's CPU in the storm (docs/performance.md, "Warm start").
 *
 * Only what can be exercised without the target is: MQTT cohorts over plain TCP, with their
 * connect engine, protocol version, client ids and keepalive, connecting and ending cleanly, and
 * their telemetry — QoS, topic, payload, echo subscription and store as the run has them, at a
 * short interval — so a telemetry fleet's storm also runs optimised publish, acknowledgement and
 * delivery code. TLS, requests, downlink, outages and churn are left cold.
 */
import { performance } from 'node:perf_hooks';
import { closeNativeCore } from '../protocols/native/core.js';
import { buildPlan, idsFor } from '../plan/plan.js';
import type { ResolvedCohort, ResolvedScenario } from '../results/resolved-scenario.js';
import { clockFromOrigin, engineClock, monotonicNowNs } from '../util/clock.js';
import { Runner } from './runner.js';
import { workerRunnerOptions } from './runner-options.js';
import type { WarmUpResult } from './warm-up.js';
import { ThrowawayListener } from './warm-listener.js';
import { RoundEnd, WARM_PUBLISHES } from './warm-round.js';

/** Handshakes per worker at most: V8 had optimised the connect path after ~3,000–4,000 (--trace-opt). */
export const WARM_ENGINE_HANDSHAKES = 4096;
/**
 * Handshakes in flight at most: the run's cap when lower. An uncapped spike of thousands would
 * overflow the listener's accept queue (SYN retransmits: seconds of warm-up for nothing).
 */
const WARM_IN_FLIGHT = 64;
/** Bound on each round: past it, the round's teardown ends what is left (the run still starts). */
const DEADLINE_MS = 3_000;
/**
 * Publishes a second a round's whole fleet makes, at most: its devices' interval follows from it
 * (never under WARM_MIN_EVERY_US), so a round of 2,048 devices publishes every ~256 ms each. The
 * listener answering them shares the worker's thread: at 50 ms for everyone, 40,000 publishes a
 * second (each answered and echoed) slowed the handshakes and held rounds to their deadline.
 */
const WARM_PUBLISHES_PER_S = 8_000;
const WARM_MIN_EVERY_US = 50_000;

/** A warm device's publish interval in a round of `devices`: a few publishes in its short life. */
export function warmPublishEveryUs(devices: number): number {
  return Math.max(WARM_MIN_EVERY_US, Math.ceil((devices * 1e6) / WARM_PUBLISHES_PER_S));
}

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
  /** Bound on each round (default 3 s): tests give one that no machine's speed can reach. */
  roundBoundMs?: number;
}

/**
 * A worker with at least this many devices warms fully (WARM_ENGINE_HANDSHAKES). Fewer handshakes
 * than ~3,000 leave the connect path unoptimised, and the storm then compiles it: in a 2,000-device
 * storm of two workers warmed with 1,000 handshakes each, V8's compiler threads spent ~140 ms in
 * the storm's ~0.25 s window (`attempt`, `open`, `buildConnect`… first optimised there), more than
 * the workers' own user time.
 */
export const WARM_FULL_FROM_DEVICES = 1_000;

/**
 * Handshakes for a worker that will open `devices`, in two rounds of ≥ 1: WARM_ENGINE_HANDSHAKES
 * from WARM_FULL_FROM_DEVICES on; below it as many as the worker has devices (a run that small
 * gives V8 little to optimise, and its start stays quick).
 */
export function warmHandshakes(devices: number): number {
  if (devices >= WARM_FULL_FROM_DEVICES) return WARM_ENGINE_HANDSHAKES;
  return Math.max(2, Math.ceil(devices / 2) * 2);
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

/**
 * The cohorts a warm-up can run (MQTT over plain TCP or TLS, run over plain TCP), as plain-TCP
 * cohorts that publish (if they do) every `publishEveryUs`, and take no cloud traffic.
 */
export function warmCohorts(cohorts: readonly ResolvedCohort[], publishEveryUs: number): ResolvedCohort[] {
  return cohorts
    .filter((c) => c.device.protocol === 'mqtt')
    .map((c) => {
      const p = c.device.publish;
      // Publishing until the round ends: the run's stopBeforeEnd could outlast the whole round.
      const publish = p === null ? null : { ...p, everyUs: publishEveryUs, stopBeforeEndUs: 0 };
      return {
        ...c,
        targets: null,
        reconnect: { policy: 'none' },
        device: { ...c.device, transport: 'mqtt', tls: null, publish, requests: null, downlink: null },
      };
    });
}

/**
 * The second round's ramp: its attempts come due one after another, so the scheduler sleeps on
 * timers between them as a paced wave does (a burst only ever drains on setImmediate), and Node's
 * timer code is optimised before the origin too.
 */
export const WARM_RAMP_US = 250_000;

/**
 * The warm-up's scenario: the run's MQTT cohorts (shares kept, renormalised), `handshakes` devices
 * in one burst at t = 0 or, with `overUs`, a ramp over that long; nothing else planned but their
 * telemetry.
 */
export function warmScenario(
  s: ResolvedScenario,
  handshakes: number,
  overUs = 0,
  boundMs = DEADLINE_MS,
): ResolvedScenario | null {
  const cohorts = warmCohorts(s.cohorts, warmPublishEveryUs(handshakes));
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
    waves: [
      overUs > 0
        ? { type: 'ramp', name: 'warm-up', atUs: 0, devices: handshakes, overUs }
        : { type: 'spike', name: 'warm-up', atUs: 0, devices: handshakes },
    ],
    outageWindows: [],
    declaredOutages: [],
    // The run's rule, so the detector's code on every connect is warm too (what it finds is the
    // warm-up's own and goes nowhere: the round's deltas are dropped).
    observedOutages: s.observedOutages,
    holdUs: 0,
    durationUs: boundMs * 1000,
    thresholds: {},
  };
  return JSON.parse(JSON.stringify(warm)) as ResolvedScenario;
}

/**
 * What a warm-up's telemetry came to, added up over its rounds when warmEngine is given one. Apart
 * from WarmUpResult, which reaches the run's results as it is (health.workers[].warmUp).
 */
export interface WarmTelemetry {
  /** Connections the listener had WARM_PUBLISHES PUBLISHes from. */
  publishers: number;
  /** Connected devices that had WARM_PUBLISHES publishes answered (acknowledged, with echo delivered back too). */
  answered: number;
  /** PUBLISHes the listener received; acknowledgements and deliveries herd's devices received. */
  publishes: number;
  acks: number;
  deliveries: number;
}

/**
 * Runs the warm-up; null when the run has no cohort it can warm. Every session is ended (herd
 * sends DISCONNECT, the listener closes first) and the listener closed before it resolves.
 */
export async function warmEngine(o: WarmEngineSpec, telemetry?: WarmTelemetry): Promise<WarmUpResult | null> {
  // Two Runners, one after the other: the second one's objects are what the run's will be to the
  // first (V8's call feedback has then seen a Runner's closures more than once). A burst, then a ramp.
  const half = Math.max(1, Math.floor(o.handshakes / 2));
  const a = await warmRound(o, half, 0, telemetry);
  if (a === null) return null;
  const b = await warmRound(o, half, WARM_RAMP_US, telemetry);
  return { handshakes: a.handshakes + (b?.handshakes ?? 0), elapsedMs: a.elapsedMs + (b?.elapsedMs ?? 0) };
}

async function warmRound(
  o: WarmEngineSpec,
  handshakes: number,
  overUs: number,
  telemetry: WarmTelemetry | undefined,
): Promise<WarmUpResult | null> {
  const scenario = warmScenario(o.scenario, handshakes, overUs, o.roundBoundMs ?? DEADLINE_MS);
  if (scenario === null) return null;
  const started = performance.now();
  const plan = buildPlan(scenario);
  const ids = idsFor(plan.devices, { index: 0, count: 1 }, { index: 0, count: 1 });
  let runner: Runner | null = null;
  const end = new RoundEnd(
    scenario,
    (slot) => plan.cohortOf[ids[slot] as number] as number,
    handshakes,
    () => runner?.stop(),
  );
  const listener = await ThrowawayListener.open({
    publishesPerConnection: WARM_PUBLISHES,
    onPublishes: () => end.listenerPublished(),
  });
  runner = new Runner(
    workerRunnerOptions({
      runId: o.runId,
      workerIndex: o.workerIndex,
      workerCount: o.workerCount,
      scenario,
      plan,
      ids,
      targets: scenario.cohorts.map(() => [`mqtt://127.0.0.1:${listener.port}`]),
      sourceIps: o.bindsSources ? ['127.0.0.1'] : [],
      shardIndex: 0,
      shardCount: 1,
      maxHandshakesInFlight: Math.min(WARM_IN_FLIGHT, o.maxHandshakesInFlight || WARM_IN_FLIGHT),
      maxPacketBytes: o.maxPacketBytes,
      clock: engineClock(clockFromOrigin(monotonicNowNs())),
      listeners: [end],
      emit: () => {},
    }),
  );
  try {
    await runner.run();
  } finally {
    closeNativeCore(runner);
    await listener.close();
  }
  if (telemetry !== undefined) {
    telemetry.publishers += listener.publishers;
    telemetry.answered += end.answered;
    telemetry.publishes += listener.publishes;
    telemetry.acks += end.acks;
    telemetry.deliveries += end.deliveries;
  }
  return { handshakes: end.sessions, elapsedMs: performance.now() - started };
}
