/**
 * Runs one worker's slice of the plan: starts every attempt whose intended time has come (open
 * model, absolute clock), keeps held sessions alive, ends them cleanly at teardown, and records
 * what happened. Emits one MetricsDelta per second through `emit`.
 */
import type { Failure } from '../protocols/classify.js';
import { MqttConnection, CLOSE_GRACE_MS, type MqttOwner } from '../protocols/mqtt/connection.js';
import { buildConnect } from '../protocols/mqtt/connect-packet.js';
import { Recorder, type MetricsDelta } from '../metrics/recorder.js';
import type { Plan } from '../plan/plan.js';
import type { ResolvedScenario } from '../scenario/resolve.js';
import { expandTemplate } from '../scenario/template.js';
import type { RunClock } from './clock.js';
import { HealthMonitor, type HealthSample } from './health.js';
import { KeepaliveWheel } from './keepalive.js';

export interface RunnerOptions {
  runId: string;
  workerIndex: number;
  scenario: ResolvedScenario;
  plan: Plan;
  /** Global device ids of this worker, in intended-time order. */
  ids: Uint32Array;
  target: { host: string; port: number };
  sourceIps: readonly string[];
  maxHandshakesInFlight: number;
  maxPacketBytes: number;
  clock: RunClock;
  emit(delta: MetricsDelta, health: HealthSample): void;
}

/** Attempts launched per event-loop turn, so completions are timestamped while a spike launches. */
const LAUNCH_BATCH = 64;

export class Runner implements MqttOwner {
  private readonly o: RunnerOptions;
  private readonly rec = new Recorder();
  private readonly health = new HealthMonitor();
  private readonly conns: (MqttConnection | null)[];
  private readonly intendedUs: Float64Array;
  private readonly keepalive: KeepaliveWheel;
  private cursor = 0;
  private connected = 0;
  private handshaking = 0;
  private closing = 0;
  private tearingDown = false;
  private launchTimer: NodeJS.Timeout | null = null;
  private launchImmediate: NodeJS.Immediate | null = null;
  private flushTimer: NodeJS.Timeout | null = null;
  private lastFlushedSecond = -1;
  private scheduleLagMaxUs = 0;
  private finished: ((r: { inFlightAtEnd: number; delta: MetricsDelta; health: HealthSample }) => void) | null = null;
  private readonly dropAfterUs: number;

  constructor(o: RunnerOptions) {
    this.o = o;
    this.conns = new Array<MqttConnection | null>(o.ids.length).fill(null);
    this.intendedUs = new Float64Array(o.ids.length);
    this.keepalive = new KeepaliveWheel(o.scenario.device.keepaliveUs);
    // An attempt the harness cannot start within the connect timeout of its intended time is
    // dropped (counted, never started) rather than started absurdly late.
    this.dropAfterUs = o.scenario.device.connectTimeoutUs;
  }

  now(): number {
    return this.o.clock.nowUs();
  }

  /** Runs until teardown completes; resolves with what was still in flight at the end. */
  run(): Promise<{ inFlightAtEnd: number; delta: MetricsDelta; health: HealthSample }> {
    this.health.start();
    this.scheduleLaunch();
    this.scheduleFlush();
    return new Promise((resolve) => {
      this.finished = resolve;
    });
  }

  /** Starts teardown now (end of plan, or an abort from the coordinator). */
  stop(): void {
    this.teardown();
  }

  // ---- launching ----

  private scheduleLaunch(): void {
    if (this.tearingDown || this.cursor >= this.o.ids.length) return;
    const nextId = this.o.ids[this.cursor] as number;
    const dueUs = this.o.plan.connectAtUs[nextId] as number;
    const waitMs = Math.max(0, (dueUs - this.now()) / 1000);
    if (waitMs <= 0) this.launchImmediate = setImmediate(() => this.launchDue());
    else this.launchTimer = setTimeout(() => this.launchDue(), Math.max(1, Math.floor(waitMs)));
  }

  private launchDue(): void {
    this.launchTimer = null;
    this.launchImmediate = null;
    if (this.tearingDown) return;
    const now = this.now();
    const { ids, plan, maxHandshakesInFlight } = this.o;
    let launched = 0;
    while (this.cursor < ids.length && launched < LAUNCH_BATCH) {
      const id = ids[this.cursor] as number;
      const intended = plan.connectAtUs[id] as number;
      if (intended > now) break;
      if (maxHandshakesInFlight > 0 && this.handshaking >= maxHandshakesInFlight) {
        // Capped: try again soon; the wait shows up as schedule lag.
        this.launchTimer = setTimeout(() => this.launchDue(), 1);
        return;
      }
      const slot = this.cursor++;
      if (now - intended > this.dropAfterUs) {
        this.rec.counters.dropped++;
        continue;
      }
      this.startAttempt(slot, id, intended);
      launched++;
    }
    this.scheduleLaunch();
  }

  private startAttempt(slot: number, id: number, intended: number): void {
    const { scenario, target, sourceIps, runId } = this.o;
    const d = scenario.device;
    const vars = { id, run: runId, worker: this.o.workerIndex };
    const connectPacket = buildConnect({
      clientId: expandTemplate(d.clientId, vars),
      username: d.username === null ? null : expandTemplate(d.username, vars),
      password: d.password === null ? null : expandTemplate(d.password, vars),
      keepaliveS: Math.round(d.keepaliveUs / 1e6),
      clean: d.cleanSession,
      protocolVersion: d.mqttVersion,
    });
    this.intendedUs[slot] = intended;
    this.rec.counters.started++;
    this.handshaking++;
    const conn = new MqttConnection(this, slot, {
      host: target.host,
      port: target.port,
      localAddress: sourceIps.length === 0 ? undefined : sourceIps[id % sourceIps.length],
      connectPacket,
      connectTimeoutMs: Math.max(1, Math.round(d.connectTimeoutUs / 1000)),
      maxPacketBytes: this.o.maxPacketBytes,
    });
    this.conns[slot] = conn;
    const lag = conn.socketOpenUs - intended;
    this.rec.record('connect.scheduleLag', lag);
    if (lag > this.scheduleLagMaxUs) this.scheduleLagMaxUs = lag;
  }

  // ---- MqttOwner ----

  onConnected(c: MqttConnection): void {
    this.handshaking--;
    this.connected++;
    const intended = this.intendedUs[c.deviceId] as number;
    this.rec.counters.succeeded++;
    this.rec.record('connect.total', c.connackUs - intended);
    this.rec.record('connect.service', c.connackUs - c.socketOpenUs);
    this.rec.record('phase.tcpConnect', c.tcpConnectedUs - c.socketOpenUs);
    this.rec.record('phase.mqttConnack', c.connackUs - c.tcpConnectedUs);
    if (this.tearingDown) {
      this.endSession(c);
      return;
    }
    this.keepalive.add(c.deviceId, c.connackUs);
  }

  onFailed(c: MqttConnection, f: Failure): void {
    this.handshaking--;
    this.conns[c.deviceId] = null;
    if (f.origin === 'timeout') this.rec.counters.timedOut++;
    else this.rec.counters.failed++;
    this.rec.error(f);
    this.rec.record('connect.failed', this.now() - (this.intendedUs[c.deviceId] as number));
    this.maybeFinish();
  }

  onLost(c: MqttConnection, f: Failure): void {
    this.connected--;
    this.conns[c.deviceId] = null;
    this.rec.counters.disconnects++;
    this.rec.error(f);
    this.maybeFinish();
  }

  onClosed(c: MqttConnection): void {
    this.closing--;
    this.conns[c.deviceId] = null;
    this.maybeFinish();
  }

  // ---- keepalive and per-second flush ----

  private scheduleFlush(): void {
    const now = this.now();
    const nextSecondUs = (Math.floor(now / 1e6) + 1) * 1e6;
    const teardownUs = this.o.plan.durationUs;
    const atUs = !this.tearingDown && teardownUs > now && teardownUs < nextSecondUs ? teardownUs : nextSecondUs;
    this.flushTimer = setTimeout(() => this.onTick(), Math.max(1, Math.ceil((atUs - now) / 1000)));
  }

  private onTick(): void {
    const now = this.now();
    if (!this.tearingDown && now >= this.o.plan.durationUs) this.teardown();
    const second = Math.floor(now / 1e6) - 1;
    if (second > this.lastFlushedSecond && second >= 0) this.flush(second);
    if (!this.tearingDown) this.pingDue(now);
    if (this.finished !== null) this.scheduleFlush();
  }

  private flush(second: number): void {
    this.lastFlushedSecond = second;
    const delta = this.rec.flush(second, this.connected, this.handshaking);
    this.o.emit(delta, this.health.sample(this.scheduleLagMaxUs));
    this.scheduleLagMaxUs = 0;
  }

  private pingDue(now: number): void {
    const keepaliveUs = this.o.scenario.device.keepaliveUs;
    for (const slot of this.keepalive.due(now)) {
      const c = this.conns[slot];
      if (!c || c.state !== 'connected') continue;
      if (!Number.isNaN(c.pingSentUs) && now - c.pingSentUs > keepaliveUs) {
        // No PINGRESP within a keepalive interval: the session is dead as far as a device knows.
        c.abort();
        this.conns[slot] = null;
        this.connected--;
        this.closing++;
        this.rec.counters.disconnects++;
        this.rec.error({ origin: 'timeout', phase: 'held', code: 'KEEPALIVE_TIMEOUT' });
        continue;
      }
      c.ping();
      this.keepalive.reschedule(slot, now);
    }
  }

  // ---- teardown ----

  private teardown(): void {
    if (this.tearingDown) return;
    this.tearingDown = true;
    if (this.launchTimer !== null) clearTimeout(this.launchTimer);
    if (this.launchImmediate !== null) clearImmediate(this.launchImmediate);
    this.rec.counters.dropped += this.o.ids.length - this.cursor;
    this.cursor = this.o.ids.length;
    for (const c of this.conns) if (c && c.state === 'connected') this.endSession(c);
    // Handshakes still in flight get a bounded time to finish; then they are counted as in flight.
    const graceMs = Math.min(5_000, this.o.scenario.device.connectTimeoutUs / 1000);
    setTimeout(() => this.forceEnd(), graceMs + CLOSE_GRACE_MS + 500).unref();
    this.maybeFinish();
  }

  private endSession(c: MqttConnection): void {
    this.connected--;
    this.closing++;
    c.end();
  }

  private inFlightAtEnd = 0;

  private forceEnd(): void {
    if (this.finished === null) return;
    for (const c of this.conns) {
      if (!c) continue;
      if (c.state === 'connecting' || c.state === 'handshaking') this.inFlightAtEnd++;
      c.abort();
    }
    this.finish();
  }

  private maybeFinish(): void {
    if (this.tearingDown && this.handshaking === 0 && this.closing === 0 && this.connected === 0) this.finish();
  }

  private finish(): void {
    const done = this.finished;
    if (done === null) return;
    this.finished = null;
    if (this.flushTimer !== null) clearTimeout(this.flushTimer);
    this.health.stop();
    const second = Math.max(this.lastFlushedSecond + 1, Math.floor(this.now() / 1e6));
    const delta = this.rec.flush(second, 0, 0);
    done({ inFlightAtEnd: this.inFlightAtEnd, delta, health: this.health.sample(this.scheduleLagMaxUs) });
  }
}
