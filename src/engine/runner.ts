/**
 * Runs one worker's slice of the plan: starts every attempt whose intended time has come (open
 * model, absolute clock), plays planned outages and churn, applies each cohort's reconnect policy
 * after drops and failed attempts, keeps held sessions alive, ends them cleanly at teardown, and
 * records what happened. Emits one MetricsDelta per second through `emit`.
 */
import type { Failure } from '../protocols/classify.js';
import { MqttConnection, CLOSE_GRACE_MS, type MqttOwner } from '../protocols/mqtt/connection.js';
import type { Device, DeviceOwner } from '../protocols/device.js';
import type { WsDeviceOwner } from '../protocols/ws/device.js';
import { Recorder, type MetricsDelta } from '../metrics/recorder.js';
import type { Plan } from '../plan/plan.js';
import type { ResolvedScenario } from '../scenario/resolve.js';
import type { EngineClock, TimerHandle } from '../util/clock.js';
import { HealthMonitor, type HealthSample } from './health.js';
import { KeepaliveWheel, keepaliveDue } from './keepalive.js';
import { DeviceTable, NO_OUTAGE } from './device-table.js';
import { expandTemplate } from '../scenario/template.js';
import { EventHeap, EV_OUTAGE, EV_PUBLISH, EV_RECONNECT, EV_REQUEST } from './event-heap.js';
import { Requester } from './requester.js';
import { OutagePlayer } from './outages.js';
import { Messaging } from './messaging.js';
import type { InboundMessage } from '../protocols/mqtt/messaging.js';
import type { DeliveryState } from '../metrics/delivery.js';

export interface RunnerOptions {
  runId: string;
  workerIndex: number;
  scenario: ResolvedScenario;
  plan: Plan;
  /** Global device ids of this worker, in intended-time order. */
  ids: Uint32Array;
  targets: readonly (readonly string[])[];
  sourceIps: readonly string[];
  maxHandshakesInFlight: number;
  maxPacketBytes: number;
  /** The run clock and timers (a fake one in tests). */
  clock: EngineClock;
  /** Opens a device (default: the cohort's protocol over its transport); tests pass in-process fakes. */
  open?: (slot: number, owner: DeviceOwner) => Device;
  /** The harness's self-watch (default: HealthMonitor). */
  health?: Pick<HealthMonitor, 'start' | 'stop' | 'sample'>;
  /** Health is sampled once per timer tick: only the last delta of a tick carries it. */
  emit(delta: MetricsDelta, health: HealthSample | null): void;
}

export interface RunEnd {
  inFlightAtEnd: number;
  /** Per cohort with echo telemetry: end-to-end delivery state. */
  delivery: Record<string, DeliveryState>;
  delta: MetricsDelta;
  health: HealthSample;
}

const KEEPALIVE_TIMEOUT: Failure = { origin: 'network', phase: 'held', code: 'KEEPALIVE_TIMEOUT' };

/** Attempts launched per event-loop turn, so completions are timestamped while a spike launches. */
const LAUNCH_BATCH = 64;

export class Runner implements DeviceOwner {
  private readonly o: RunnerOptions;
  private readonly rec: Recorder;
  private readonly health: Pick<HealthMonitor, 'start' | 'stop' | 'sample'>;
  private readonly dev: DeviceTable;
  private readonly keepalive: KeepaliveWheel[];
  private readonly heap = new EventHeap();
  private readonly messaging: Messaging;
  private readonly outages: OutagePlayer;
  /** Cloud-side requester connections, one per target endpoint (only when a cohort takes requests). */
  private readonly requesters: Requester[] = [];
  /** This worker's churn events: slot and time, in time order. */
  private readonly churn: { slot: Uint32Array; atUs: Float64Array };
  private cursor = 0;
  private churnCursor = 0;
  private connected = 0;
  private handshaking = 0;
  private closing = 0;
  private tearingDown = false;
  private pumpTimer: TimerHandle | null = null;
  private pumpAtUs = Infinity;
  private pumpImmediate: TimerHandle | null = null;
  private flushTimer: TimerHandle | null = null;
  private forceTimer: TimerHandle | null = null;
  private scheduleLagMaxUs = 0;
  private inFlightAtEnd = 0;
  private finished: ((r: RunEnd) => void) | null = null;

  constructor(o: RunnerOptions) {
    this.o = o;
    const s = o.scenario;
    this.rec = new Recorder(s.cohorts.map((c) => c.name));
    this.health = o.health ?? new HealthMonitor();
    this.dev = new DeviceTable(o, expandTemplate);
    this.keepalive = s.cohorts.map((c) => new KeepaliveWheel(c.device.keepaliveUs));
    this.messaging = new Messaging(
      {
        scenario: s,
        runId: o.runId,
        workerIndex: o.workerIndex,
        ids: o.ids,
        durationUs: o.plan.durationUs,
        cohortOf: (slot) => this.dev.cohort(slot),
        schedulePublish: (slot, atUs) => this.pushEvent(atUs, slot, EV_PUBLISH),
        scheduleRequest: (slot, atUs) => this.pushEvent(atUs, slot, EV_REQUEST),
        requesterFor: (slot) => {
          const n = this.requesters.length;
          return n === 0 ? null : (this.requesters[(o.ids[slot] as number) % n] ?? null);
        },
      },
      this.rec,
    );
    const runner = this;
    this.outages = new OutagePlayer({
      dev: this.dev,
      rec: this.rec,
      plan: o.plan,
      get tearingDown() {
        return runner.tearingDown;
      },
      now: () => this.now(),
      at: (us) => this.at(us),
      soon: (fn) => this.o.clock.setImmediate(fn, undefined),
      ending: () => {
        this.connected--;
        this.closing++;
      },
    });
    const requests = s.cohorts.map((c) => c.device.requests).find((r) => r !== null);
    const host = { now: () => this.now(), at: (us: number) => this.at(us), runId: o.runId, workerIndex: o.workerIndex, maxPacketBytes: o.maxPacketBytes, rec: this.rec, onReady: () => {} };
    if (requests) for (const target of this.dev.targetsOf(0)) this.requesters.push(new Requester(host, target, requests.qos));
    this.churn = this.dev.churnSchedule();
    o.plan.outages.forEach((out, i) => this.heap.push(out.atUs, i, EV_OUTAGE));
  }

  now(): number {
    return this.o.clock.nowUs();
  }

  /** Runs until teardown completes; resolves with what was still in flight at the end. */
  run(): Promise<RunEnd> {
    this.health.start();
    for (const r of this.requesters) r.start();
    this.schedulePump();
    this.scheduleFlush();
    return new Promise((resolve) => {
      this.finished = resolve;
    });
  }

  /** Starts teardown now (end of plan, or an abort from the coordinator). */
  stop(): void {
    this.teardown();
  }

  // ---- the scheduler: plan cursor, churn cursor and the event heap ----

  private nextDueUs(): number {
    const { ids, plan } = this.o;
    const a = this.cursor < ids.length ? (plan.connectAtUs[ids[this.cursor] as number] as number) : Infinity;
    const b = this.churnCursor < this.churn.slot.length ? (this.churn.atUs[this.churnCursor] as number) : Infinity;
    return Math.min(a, b, this.heap.peekAt());
  }

  private schedulePump(): void {
    if (this.tearingDown || this.pumpTimer !== null || this.pumpImmediate !== null) return;
    const due = this.nextDueUs();
    if (due === Infinity) return;
    const waitMs = (due - this.now()) / 1000;
    if (waitMs <= 0) this.pumpImmediate = this.o.clock.setImmediate((r) => r.pump(), this);
    else {
      this.pumpAtUs = due;
      this.pumpTimer = this.o.clock.setTimeout((r) => r.pump(), Math.max(1, Math.floor(waitMs)), this);
    }
  }

  private pump(): void {
    this.pumpTimer = null;
    this.pumpImmediate = null;
    if (this.tearingDown) return;
    const now = this.now();
    const { ids, plan, maxHandshakesInFlight } = this.o;
    let launched = 0;
    while (launched < LAUNCH_BATCH) {
      if (maxHandshakesInFlight > 0 && this.handshaking >= maxHandshakesInFlight) {
        // Capped: try again soon; the wait shows up as schedule lag.
        this.pumpTimer = this.o.clock.setTimeout((r) => r.pump(), 1, this);
        return;
      }
      const planAt = this.cursor < ids.length ? (plan.connectAtUs[ids[this.cursor] as number] as number) : Infinity;
      const churnAt = this.churnCursor < this.churn.slot.length ? (this.churn.atUs[this.churnCursor] as number) : Infinity;
      const heapAt = this.heap.peekAt();
      const at = Math.min(planAt, churnAt, heapAt);
      if (at > now) break;
      if (at === planAt) {
        const slot = this.cursor++;
        if (this.attempt(slot, at, false)) launched++;
      } else if (at === churnAt) {
        const slot = this.churn.slot[this.churnCursor++] as number;
        this.outages.churn(slot, at);
      } else {
        const [slot, kind] = this.heap.pop();
        if (kind === EV_RECONNECT) {
          this.dev.pending[slot] = 0;
          if (this.attempt(slot, at, true)) launched++;
        } else if (kind === EV_OUTAGE) this.outages.start(slot, now);
        else if (kind === EV_REQUEST) {
          this.messaging.requestDue(slot, this.dev.conns[slot]?.mqtt ?? null, now);
        } else if (kind === EV_PUBLISH) {
          this.messaging.publishDue(slot, this.dev.conns[slot]?.mqtt ?? null, now);
        }
      }
    }
    this.schedulePump();
  }

  /** Starts one attempt; returns whether a socket was opened. */
  private attempt(slot: number, intendedUs: number, isReconnect: boolean): boolean {
    const now = this.now();
    this.at(now);
    const d = this.dev;
    if (now < (d.offlineUntilUs[slot] as number)) {
      // The device has no network: the attempt fails on the device and never reaches the target.
      // It still counts as an attempt (planned or a reconnect) whose outcome is "offline".
      this.rec.counters.offlineAttempts++;
      if (isReconnect) this.rec.counters.reconnects++;
      this.scheduleReconnect(slot, now);
      return false;
    }
    if (isReconnect) this.rec.counters.reconnects++;
    if (now - intendedUs > d.connectTimeoutUs(slot)) {
      // Not started within the connect timeout of its intended time: dropped, never started late.
      this.rec.counters.dropped++;
      return false;
    }
    const cohort = d.cohort(slot);
    d.intendedUs[slot] = intendedUs;
    d.attemptsSinceDrop[slot] = (d.attemptsSinceDrop[slot] as number) + 1;
    this.rec.count('started', cohort);
    this.handshaking++;
    this.rec.noteHandshaking(this.handshaking);
    const conn = this.o.open ? this.o.open(slot, this) : d.open(slot, this);
    d.conns[slot] = conn;
    const lag = conn.socketOpenUs - intendedUs;
    this.rec.record('connect.scheduleLag', lag);
    if (lag > this.scheduleLagMaxUs) this.scheduleLagMaxUs = lag;
    return true;
  }

  private scheduleReconnect(slot: number, now: number): void {
    const d = this.dev;
    if (this.tearingDown || d.pending[slot] === 1) return;
    const delay = d.reconnectDelayUs(slot);
    if (delay === null) {
      this.rec.counters.gaveUp++;
      return;
    }
    d.pending[slot] = 1;
    this.pushEvent(now + delay, slot, EV_RECONNECT);
  }

  /** Adds an event, waking the scheduler earlier if it sleeps past the event. */
  private pushEvent(atUs: number, slot: number, kind: number): void {
    this.heap.push(atUs, slot, kind);
    if (this.pumpTimer !== null && atUs < this.pumpAtUs) {
      this.o.clock.clearTimeout(this.pumpTimer);
      this.pumpTimer = null;
    }
    this.schedulePump();
  }

  // ---- MqttOwner ----

  onConnected(c: Device): void {
    this.at(c.readyUs);
    const slot = c.deviceId;
    const d = this.dev;
    const cohort = d.cohort(slot);
    this.handshaking--;
    this.connected++;
    const intended = d.intendedUs[slot] as number;
    this.rec.count('succeeded', cohort);
    this.rec.record('connect.total', c.readyUs - intended, cohort);
    const ph = c.phaseTimes();
    this.rec.record('connect.service', ph.serviceUs);
    this.rec.record('phase.tcpConnect', ph.tcpConnectUs);
    if (ph.dnsUs !== null) this.rec.record('phase.dns', ph.dnsUs);
    if (ph.tlsHandshakeUs !== null) {
      this.rec.record('phase.tlsHandshake', ph.tlsHandshakeUs);
      // Full and resumed handshakes cost very different CPU: timed apart.
      this.rec.record(c.tlsResumed === true ? 'phase.tlsResumed' : 'phase.tlsFull', ph.tlsHandshakeUs);
    }
    if (ph.wsUpgradeUs !== null) this.rec.record('phase.wsUpgrade', ph.wsUpgradeUs);
    if (ph.mqttConnackUs !== null) this.rec.record('phase.mqttConnack', ph.mqttConnackUs);
    d.retries[slot] = 0;
    d.prevDelayUs[slot] = 0;
    const outage = d.outageOf[slot] as number;
    const now = c.readyUs;
    if (outage !== NO_OUTAGE && now >= (d.offlineUntilUs[slot] as number)) {
      const out = this.o.plan.outages[outage];
      // Back before a target outage ended (a partial one): recovery 0, clamped, not negative.
      if (out) this.rec.outageRecovered(outage, Math.max(0, now - (out.atUs + out.offlineUs)), d.attemptsSinceDrop[slot] as number);
      d.outageOf[slot] = NO_OUTAGE;
    }
    d.attemptsSinceDrop[slot] = 0;
    if (this.tearingDown) {
      this.endSession(c);
      return;
    }
    if (now < (d.offlineUntilUs[slot] as number)) {
      // Connected just as its network went down (the handshake was already in flight).
      const out = this.o.plan.outages[outage];
      this.outages.drop(slot, c, out?.mode ?? 'reset', now);
      return;
    }
    d.session[slot] = ((d.session[slot] as number) + 1) >>> 0;
    this.keepalive[cohort]?.add(slot, d.session[slot] as number, now);
    if (c.sessionPresent) this.rec.counters.sessionPresent++;
    if (c.mqtt !== null) this.messaging.onConnected(slot, c.mqtt, now);
  }

  onSubscribed(c: MqttConnection, _packetId: number, granted: number[], latencyUs: number): void {
    const now = this.now();
    this.at(now);
    this.messaging.onSubscribed(c.deviceId, granted, latencyUs, now);
  }

  onPublished(_c: MqttConnection, _packetId: number, _qos: 1 | 2, latencyUs: number, reasonCode: number): void {
    this.at(this.now());
    this.messaging.onPublished(latencyUs, reasonCode);
  }

  /** MQTT: an inbound PUBLISH; plain WebSocket devices: a message (not counted as telemetry). */
  onMessage(c: MqttConnection, m: InboundMessage | Buffer): void {
    // Plain WebSocket devices report raw messages through the same callback: not telemetry.
    if (Buffer.isBuffer(m)) return;
    this.at(m.receivedUs);
    this.messaging.onMessage(c.deviceId, m, c);
  }


  onFailed(c: Device, f: Failure): void {
    this.at(this.now());
    const slot = c.deviceId;
    const d = this.dev;
    const cohort = d.cohort(slot);
    this.handshaking--;
    d.conns[slot] = null;
    this.rec.count(f.origin === 'timeout' ? 'timedOut' : 'failed', cohort);
    this.rec.error(f, cohort);
    const now = this.now();
    this.rec.record('connect.failed', now - (d.intendedUs[slot] as number), cohort);
    this.outages.joinTargetOutage(slot, now, c.socketOpenUs);
    d.failover(slot);
    this.scheduleReconnect(slot, now);
    this.maybeFinish();
  }

  onLost(c: Device, f: Failure): void {
    const now = this.now();
    this.at(now);
    const slot = c.deviceId;
    const d = this.dev;
    this.connected--;
    d.conns[slot] = null;
    if (d.silent[slot] === 1) {
      // The end of a session herd's own silent outage black-holed: counted as that outage's drop.
      d.silent[slot] = 0;
    } else {
      this.outages.joinTargetOutage(slot, now, f.code === 'KEEPALIVE_TIMEOUT' ? c.pingSentUs : now);
      this.rec.counters.disconnects++;
      this.rec.error(f, d.cohort(slot));
      d.attemptsSinceDrop[slot] = 0;
    }
    this.scheduleReconnect(slot, now);
    this.maybeFinish();
  }

  onClosed(c: Device): void {
    const slot = c.deviceId;
    const d = this.dev;
    this.closing--;
    d.conns[slot] = null;
    const after = d.reconnectAfterClose[slot];
    d.reconnectAfterClose[slot] = 0;
    if (!this.tearingDown) {
      if (after === 1) this.scheduleReconnect(slot, this.now());
      else if (after === 2) {
        // Churn: the device reconnects at once, as a planned attempt at its churn time.
        d.pending[slot] = 1;
        this.pushEvent(d.intendedUs[slot] as number, slot, EV_RECONNECT);
      }
    }
    this.maybeFinish();
  }

  // ---- keepalive and per-second flush ----

  private scheduleFlush(): void {
    const now = this.now();
    const nextSecondUs = (Math.floor(now / 1e6) + 1) * 1e6;
    const teardownUs = this.o.plan.durationUs;
    const atUs = !this.tearingDown && teardownUs > now && teardownUs < nextSecondUs ? teardownUs : nextSecondUs;
    this.flushTimer = this.o.clock.setTimeout((r) => r.onTick(), Math.max(1, Math.ceil((atUs - now) / 1000)), this);
  }

  private onTick(): void {
    const now = this.now();
    if (!this.tearingDown && now >= this.o.plan.durationUs) this.teardown();
    this.at(now);
    this.emitReady();
    if (!this.tearingDown) this.pingDue(now);
    if (this.finished !== null) this.scheduleFlush();
  }

  /** Moves the recorder to the second `nowUs` is in (see Recorder.advance). */
  private at(nowUs: number): void {
    this.rec.advance(nowUs, this.connected, this.handshaking);
  }

  private emitReady(): void {
    const ready = this.rec.takeReady();
    if (ready.length === 0) return;
    const health = this.health.sample(this.scheduleLagMaxUs);
    this.scheduleLagMaxUs = 0;
    ready.forEach((d, i) => this.o.emit(d, i === ready.length - 1 ? health : null));
  }

  private pingDue(now: number): void {
    const d = this.dev;
    const fleet = { device: (slot: number) => d.conns[slot] ?? null, session: (slot: number) => d.session[slot] as number };
    keepaliveDue(this.keepalive, fleet, now, (slot) => {
      // Nothing received for a whole interval after a PINGREQ: the target is gone as far as the
      // device can tell. Lost like any other session (onLost): counted, and the policy applies.
      d.conns[slot]?.expire(KEEPALIVE_TIMEOUT);
    });
  }

  // ---- teardown ----

  private teardown(): void {
    if (this.tearingDown) return;
    this.at(this.now());
    this.tearingDown = true;
    if (this.pumpTimer !== null) this.o.clock.clearTimeout(this.pumpTimer);
    if (this.pumpImmediate !== null) this.o.clock.clearImmediate(this.pumpImmediate);
    this.rec.counters.dropped += this.o.ids.length - this.cursor;
    this.cursor = this.o.ids.length;
    this.rec.counters.reconnectsCancelled += this.heap.drain(EV_RECONNECT);
    this.heap.drain(EV_OUTAGE);
    this.heap.drain(EV_PUBLISH);
    this.heap.drain(EV_REQUEST);
    for (const r of this.requesters) r.stop();
    const open = this.dev.conns.filter((c): c is Device => c !== null && c.state === 'connected');
    this.endInBatches(open, 0);
    // Handshakes still in flight get a bounded time to finish; then they are counted as in flight.
    const graceMs = Math.min(5_000, this.o.scenario.device.connectTimeoutUs / 1000);
    this.forceTimer = this.o.clock.setTimeout((r) => r.forceEnd(), graceMs + CLOSE_GRACE_MS + 500, this);
    this.maybeFinish();
  }

  /** Ends sessions a batch per event-loop turn: a clean teardown of thousands must not block. */
  private endInBatches(conns: Device[], from: number): void {
    this.at(this.now());
    const end = Math.min(conns.length, from + LAUNCH_BATCH * 4);
    for (let k = from; k < end; k++) {
      const c = conns[k] as Device;
      if (c.state === 'connected') this.endSession(c);
    }
    if (end < conns.length) this.o.clock.setImmediate((r) => r.endInBatches(conns, end), this);
  }

  private endSession(c: Device): void {
    this.connected--;
    this.closing++;
    const slot = c.deviceId;
    // A dark link cannot carry a DISCONNECT: close it outright.
    if (this.dev.silent[slot] === 1) c.abort();
    else c.end();
    this.dev.silent[slot] = 0;
  }

  private forceEnd(): void {
    if (this.finished === null) return;
    for (const c of this.dev.conns) {
      if (!c) continue;
      if (c.state === 'connecting' || c.state === 'handshaking') this.inFlightAtEnd++;
      c.abort();
    }
    this.finish();
  }

  private maybeFinish(): void {
    if (this.tearingDown && this.handshaking === 0 && this.closing <= 0 && this.connected <= 0) this.finish();
  }

  private finish(): void {
    const done = this.finished;
    if (done === null) return;
    this.finished = null;
    if (this.flushTimer !== null) this.o.clock.clearTimeout(this.flushTimer);
    if (this.forceTimer !== null) this.o.clock.clearTimeout(this.forceTimer);
    this.health.stop();
    this.at(this.now());
    this.emitReady();
    const delta = this.rec.finishCurrent(0, 0);
    done({ inFlightAtEnd: this.inFlightAtEnd, delivery: this.messaging.state(), delta, health: this.health.sample(this.scheduleLagMaxUs) });
  }
}
