/**
 * The engine's fake-clock tier: a Runner driven by a FakeClock, with small in-process devices
 * behind the engine's Device seam (src/protocols/device.ts) instead of sockets. A FakeDevice
 * behaves as the test's `FakeTarget` says (how long a handshake takes, whether pings are
 * answered) and records every ping and open at the fake clock's exact time.
 */
import type { Failure } from '../../src/protocols/classify.js';
import type { ConnState, Device, DeviceOwner, PhaseTimes } from '../../src/protocols/device.js';
import type { HealthSample } from '../../src/engine/health.js';
import type { SessionListener } from '../../src/engine/session-life.js';
import type { MetricsDelta } from '../../src/metrics/recorder.js';
import { buildPlan, type Plan } from '../../src/plan/plan.js';
import { validateScenario } from '../../src/scenario/validate.js';
import { Runner, type RunEnd } from '../../src/engine/runner.js';
import { FakeClock } from './fake-clock.js';

export interface FakeTarget {
  /** µs from open to CONNACK (0 = in the same turn); null = never answers (the device times out). */
  handshakeUs(slot: number, attempt: number): number | null;
  /** Whether a PINGREQ gets an answer, and after how many µs. */
  pingAnswerUs(slot: number): number | null;
  /** µs the server takes to close after a clean end. */
  closeUs: number;
  /** When set and not null: the connect is refused (ECONNREFUSED) after that many µs. */
  refusedUs?(slot: number, attempt: number): number | null;
}

export const QUIET_TARGET: FakeTarget = { handshakeUs: () => 10_000, pingAnswerUs: () => 5_000, closeUs: 1_000 };

export class FakeDevice implements Device {
  state: ConnState = 'connecting';
  readonly socketOpenUs: number;
  readyUs = NaN;
  pingSentUs = NaN;
  readonly tlsResumed = null;
  readonly sessionPresent = false;
  readonly mqtt = null;
  dark = false;
  /** Fake-clock µs of every ping this session sent. */
  readonly pings: number[] = [];
  endedHow: 'end' | 'abort' | 'reset' | null = null;
  /** Fake-clock µs at which the held session was lost (peer drop or expire); NaN while held. */
  lostAtUs = NaN;
  lostWith: Failure | null = null;

  constructor(
    readonly deviceId: number,
    private readonly owner: DeviceOwner,
    private readonly clock: FakeClock,
    private readonly target: FakeTarget,
    attempt: number,
    connectTimeoutUs: number,
  ) {
    this.socketOpenUs = clock.nowUs();
    const refused = target.refusedUs?.(deviceId, attempt) ?? null;
    const hs = target.handshakeUs(deviceId, attempt);
    if (refused !== null)
      clock.setTimeout(
        (d) => d.failAttempt({ origin: 'network', phase: 'tcpConnect', code: 'ECONNREFUSED' }),
        refused / 1000,
        this,
      );
    else if (hs === null)
      clock.setTimeout(
        (d) => d.failAttempt({ origin: 'timeout', phase: 'mqttConnack', code: 'CONNECT_TIMEOUT' }),
        connectTimeoutUs / 1000,
        this,
      );
    else if (hs === 0) clock.setImmediate((d) => d.connect(), this);
    else clock.setTimeout((d) => d.connect(), hs / 1000, this);
  }

  phaseTimes(): PhaseTimes {
    const serviceUs = this.readyUs - this.socketOpenUs;
    return { tcpConnectUs: 0, mqttConnackUs: serviceUs, serviceUs };
  }

  ping(): void {
    if (this.state !== 'connected' || !Number.isNaN(this.pingSentUs)) return;
    this.pingSentUs = this.clock.nowUs();
    this.pings.push(this.pingSentUs);
    const answer = this.target.pingAnswerUs(this.deviceId);
    if (answer !== null && !this.dark) this.clock.io((d) => d.received(), answer, this);
  }

  end(): void {
    this.close('end', this.target.closeUs);
  }
  abort(): void {
    this.close('abort', 0);
  }
  reset(): void {
    this.close('reset', 0);
  }
  silence(): void {
    this.dark = true;
  }
  expire(f: Failure): void {
    this.lose(f);
  }

  /** The peer drops a held session (a reset, a crash). */
  lose(f: Failure): void {
    if (this.state !== 'connected') return;
    this.state = 'closed';
    this.lostAtUs = this.clock.nowUs();
    this.lostWith = f;
    this.owner.onLost(this, f);
  }

  private connect(): void {
    if (this.state !== 'connecting') return;
    this.state = 'connected';
    this.readyUs = this.clock.nowUs();
    this.owner.onConnected(this);
  }

  private failAttempt(f: Failure): void {
    if (this.state !== 'connecting') return;
    this.state = 'closed';
    this.owner.onFailed(this, f);
  }

  private received(): void {
    if (this.state === 'connected' && !this.dark) this.pingSentUs = NaN;
  }

  private close(how: 'end' | 'abort' | 'reset', afterUs: number): void {
    if (this.state === 'closed' || this.state === 'closing') return;
    if (this.state === 'connecting') {
      this.state = 'closed';
      return;
    }
    this.endedHow = how;
    this.state = 'closing';
    const done = (d: FakeDevice): void => {
      d.state = 'closed';
      d.owner.onClosed(d);
    };
    if (afterUs === 0) this.clock.setImmediate(done, this);
    else this.clock.setTimeout(done, afterUs / 1000, this);
  }
}

export interface EngineRun {
  clock: FakeClock;
  runner: Runner;
  plan: Plan;
  /** Every device opened, per slot, oldest first. */
  opened: FakeDevice[][];
  deltas: MetricsDelta[];
  /** Resolves at the end of the run (after the fake clock passed teardown). */
  end: Promise<RunEnd>;
  /** Advances the fake clock to `toUs` (µs since the origin). */
  to(toUs: number): void;
  /** Sum of one counter over every delta emitted so far (and the final one, once ended). */
  counter(name: keyof MetricsDelta['counters']): number;
  errors(): Record<string, number>;
}

const ZERO_HEALTH = {
  start(): void {},
  stop(): void {},
  sample: (): HealthSample => ({
    loopDelayP99Us: 0,
    loopDelayMaxUs: 0,
    loopUtilisation: 0,
    cpuPercent: 0,
    rssBytes: 0,
    openFiles: null,
    scheduleLagMaxUs: 0,
  }),
};

/** Starts a Runner over every device of `scenario` (one worker), at fake time 0. */
export function startEngine(
  scenario: Record<string, unknown>,
  target: FakeTarget = QUIET_TARGET,
  o: {
    maxHandshakesInFlight?: number;
    open?: (slot: number, owner: DeviceOwner, clock: FakeClock) => Device;
    /** Told after the engine's own listeners. */
    listeners?: SessionListener[];
    /** The transport's word on unread socket events (the runner's socketsBehind). */
    socketsBehind?: (clock: FakeClock) => boolean;
  } = {},
): EngineRun {
  const resolved = validateScenario({ name: 'engine-test', ...scenario }, 'engine-test.yaml').resolved;
  const plan = buildPlan(resolved);
  const clock = new FakeClock(0);
  const opened: FakeDevice[][] = Array.from({ length: plan.devices }, () => []);
  const deltas: MetricsDelta[] = [];
  const runner = new Runner({
    runId: 'test',
    workerIndex: 0,
    scenario: resolved,
    plan,
    ids: Uint32Array.from({ length: plan.devices }, (_, i) => i),
    targets: resolved.cohorts.map(() => ['mqtt://127.0.0.1:1883']),
    sourceIps: [],
    maxHandshakesInFlight: o.maxHandshakesInFlight ?? 0,
    maxPacketBytes: 256 * 1024,
    clock,
    health: ZERO_HEALTH,
    open: (slot, owner) => {
      if (o.open) return o.open(slot, owner, clock);
      const list = opened[slot] as FakeDevice[];
      const cohort = resolved.cohorts[plan.cohortOf[slot] as number];
      const d = new FakeDevice(slot, owner, clock, target, list.length, cohort?.device.connectTimeoutUs ?? 10e6);
      list.push(d);
      return d;
    },
    emit: (delta) => deltas.push(delta),
    ...(o.listeners !== undefined ? { listeners: o.listeners } : {}),
    ...(o.socketsBehind !== undefined ? { socketsBehind: () => o.socketsBehind?.(clock) === true } : {}),
  });
  const end = runner.run().then((e) => {
    deltas.push(e.delta);
    return e;
  });
  clock.advanceTo(0);
  return {
    clock,
    runner,
    plan,
    opened,
    deltas,
    end,
    to: (toUs) => clock.advanceTo(toUs),
    counter: (name) => deltas.reduce((n, d) => n + d.counters[name], 0),
    errors: () => {
      const out: Record<string, number> = {};
      for (const d of deltas) for (const [k, v] of Object.entries(d.errors)) out[k] = (out[k] ?? 0) + v;
      return out;
    },
  };
}
