/**
 * Runs one worker's slice of the plan. It wires the parts together and owns the devices' reports:
 * the scheduler (scheduler.ts) says when an attempt, churn or event is due; the fleet (fleet.ts)
 * alone moves devices between handshaking, held and closing; connect-record.ts records what an
 * attempt measured; outages.ts plays outage waves and churn; keepalive.ts finds dead sessions;
 * messaging.ts runs telemetry, requests and downlink. After a drop or a failed attempt the cohort's reconnect policy
 * applies. Emits one MetricsDelta per second through `emit`.
 */
import type { Failure } from '../protocols/classify.js';
import { CLOSE_GRACE_MS } from '../protocols/mqtt/connection.js';
import type { InboundMessage } from '../protocols/mqtt/messaging.js';
import type { Device, DeviceOwner } from '../protocols/device.js';
import { Recorder } from '../metrics/recorder.js';
import { expandTemplate } from '../scenario/template.js';
import type { EngineClock, TimerHandle } from '../util/clock.js';
import { recordConnected, recordFailed, recordOpened } from './connect-record.js';
import { DeviceTable } from './device-table.js';
import { EV_DOWNLINK, EV_OUTAGE, EV_PUBLISH, EV_RECONNECT, EV_REQUEST } from './event-heap.js';
import { Fleet } from './fleet.js';
import { HealthMonitor } from './health.js';
import { KeepaliveWheel, keepaliveDue } from './keepalive.js';
import { Messaging } from './messaging.js';
import { OutagePlayer } from './outages.js';
import { Scheduler } from './scheduler.js';
import { DeviceSteering } from './steering-state.js';
import type { RunEnd, RunnerOptions } from './runner-options.js';

export type { RunEnd, RunnerOptions };

const KEEPALIVE_TIMEOUT: Failure = { origin: 'network', phase: 'held', code: 'KEEPALIVE_TIMEOUT' };

export class Runner implements DeviceOwner {
  private readonly o: RunnerOptions;
  private readonly clock: EngineClock;
  private readonly rec: Recorder;
  private readonly health: Pick<HealthMonitor, 'start' | 'stop' | 'sample'>;
  private readonly dev: DeviceTable;
  private readonly fleet: Fleet;
  private readonly scheduler: Scheduler;
  private readonly keepalive: KeepaliveWheel[];
  /** Server-directed behaviour (MQTT 5 signals, SDK presets' backoff reset): steering-state.ts. */
  private readonly steering: DeviceSteering;
  private readonly messaging: Messaging;
  private readonly outages: OutagePlayer;
  private tearingDown = false;
  private tickTimer: TimerHandle | null = null;
  private forceTimer: TimerHandle | null = null;
  private scheduleLagMaxUs = 0;
  private inFlightAtEnd = 0;
  private finished: ((r: RunEnd) => void) | null = null;

  constructor(o: RunnerOptions) {
    const runner = this;
    this.o = o;
    this.clock = o.clock;
    const s = o.scenario;
    this.rec = new Recorder(s.cohorts.map((c) => c.name));
    this.health = o.health ?? new HealthMonitor();
    this.dev = new DeviceTable(o, expandTemplate);
    this.fleet = new Fleet(o.ids.length, {
      dev: this.dev,
      rec: this.rec,
      get tearingDown() {
        return runner.tearingDown;
      },
      push: (atUs, slot, kind) => this.scheduler.push(atUs, slot, kind),
      handshakeEnded: () => this.scheduler.handshakeEnded(),
    });
    this.keepalive = s.cohorts.map((c) => new KeepaliveWheel(c.device.keepaliveUs));
    this.steering = new DeviceSteering(s, o.targets, this.rec, this.dev);
    this.scheduler = new Scheduler(
      {
        clock: o.clock,
        slots: o.ids.length,
        plannedAtUs: (slot) => o.plan.connectAtUs[o.ids[slot] as number] as number,
        churn: this.dev.churnSchedule(),
        maxHandshakesInFlight: o.maxHandshakesInFlight,
      },
      {
        get handshaking() {
          return runner.fleet.handshaking;
        },
        planned: (slot, atUs) => this.attempt(slot, atUs, false),
        churn: (slot, atUs) => this.outages.churn(slot, atUs),
        event: (kind, slot, atUs, nowUs) => this.event(kind, slot, atUs, nowUs),
      },
    );
    this.messaging = new Messaging(
      {
        scenario: s,
        runId: o.runId,
        workerIndex: o.workerIndex,
        ids: o.ids,
        durationUs: o.plan.durationUs,
        cohortOf: (slot) => this.dev.cohort(slot),
        schedulePublish: (slot, atUs) => this.scheduler.push(atUs, slot, EV_PUBLISH),
        scheduleRequest: (slot, atUs) => this.scheduler.push(atUs, slot, EV_REQUEST),
        scheduleDownlink: (slot, atUs) => this.scheduler.push(atUs, slot, EV_DOWNLINK),
        cloudTargets: this.dev.targetsOf(0),
        cloud: { now: () => this.now(), clock: this.clock, at: (us: number) => this.at(us), runId: o.runId, workerIndex: o.workerIndex, maxPacketBytes: o.maxPacketBytes, rec: this.rec, onReady: () => {} },
      },
      this.rec,
    );
    this.outages = new OutagePlayer({
      dev: this.dev,
      fleet: this.fleet,
      rec: this.rec,
      plan: o.plan,
      get tearingDown() {
        return runner.tearingDown;
      },
      now: () => this.now(),
      at: (us) => this.at(us),
      soon: (fn) => this.clock.setImmediate(fn, undefined),
    });
    o.plan.outages.forEach((out, i) => this.scheduler.push(out.atUs, i, EV_OUTAGE));
  }

  now(): number {
    return this.clock.nowUs();
  }

  /** Runs until teardown completes; resolves with what was still in flight at the end. */
  run(): Promise<RunEnd> {
    this.health.start();
    this.messaging.start();
    this.scheduler.start();
    this.scheduleTick();
    return new Promise((resolve) => {
      this.finished = resolve;
    });
  }

  /** Starts teardown now (end of plan, or an abort from the coordinator). */
  stop(): void {
    this.teardown();
  }

  // ---- what the scheduler starts ----

  private event(kind: number, slot: number, atUs: number, nowUs: number): boolean {
    if (kind === EV_RECONNECT) {
      this.dev.pending[slot] = 0;
      return this.attempt(slot, atUs, true);
    }
    if (kind === EV_OUTAGE) this.outages.start(slot, nowUs);
    else if (kind === EV_REQUEST) this.messaging.requestDue(slot, this.fleet.device(slot)?.mqtt ?? null, nowUs);
    else if (kind === EV_PUBLISH) this.messaging.publishDue(slot, this.fleet.device(slot)?.mqtt ?? null, nowUs);
    else if (kind === EV_DOWNLINK) this.messaging.downlinkDue(slot, atUs);
    return false;
  }

  /** Starts one attempt; returns whether a socket was opened. */
  private attempt(slot: number, intendedUs: number, isReconnect: boolean): boolean {
    const now = this.now();
    this.at(now);
    const d = this.dev;
    if (isReconnect) this.rec.counters.reconnects++;
    if (now < (d.offlineUntilUs[slot] as number)) {
      // The device has no network: the attempt fails on the device and never reaches the target.
      // It still counts as an attempt (planned or a reconnect) whose outcome is "offline".
      this.rec.counters.offlineAttempts++;
      this.fleet.reconnectLater(slot, now);
      return false;
    }
    if (now - intendedUs > d.connectTimeoutUs(slot)) {
      // Not started within the connect timeout of its intended time: dropped, never started late.
      this.rec.counters.dropped++;
      return false;
    }
    d.intendedUs[slot] = intendedUs;
    d.attemptsSinceDrop[slot] = (d.attemptsSinceDrop[slot] as number) + 1;
    this.rec.count('started', d.cohort(slot));
    const c = this.o.open ? this.o.open(slot, this) : d.open(slot, this);
    this.fleet.opened(slot, c);
    const lagUs = recordOpened(this.rec, c, intendedUs);
    if (lagUs > this.scheduleLagMaxUs) this.scheduleLagMaxUs = lagUs;
    return true;
  }

  // ---- the devices' reports (DeviceOwner) ----

  onConnected(c: Device): void {
    const now = c.readyUs;
    this.at(now);
    const slot = c.deviceId;
    const d = this.dev;
    const cohort = d.cohort(slot);
    this.fleet.ready();
    recordConnected(this.rec, c, d.intendedUs[slot] as number, cohort);
    this.steering.restartBackoff(slot, 0);
    this.outages.reconnected(slot, now);
    d.attemptsSinceDrop[slot] = 0;
    if (this.tearingDown) {
      this.fleet.endSession(slot, 'end', 'never');
      return;
    }
    d.session[slot] = ((d.session[slot] as number) + 1) >>> 0;
    if (!this.steering.onConnected(slot, c, cohort, d.session[slot] as number, now)) this.keepalive[cohort]?.add(slot, d.session[slot] as number, now);
    if (now < (d.offlineUntilUs[slot] as number)) {
      // Connected just as its network went down (the handshake was already in flight).
      this.outages.drop(slot, this.o.plan.outages[d.outageOf[slot] as number]?.mode ?? 'reset');
      return;
    }
    if (c.sessionPresent) this.rec.counters.sessionPresent++;
    if (c.mqtt !== null) this.messaging.onConnected(slot, c.mqtt, now);
  }

  onSubscribed(c: Device, _packetId: number, granted: number[], latencyUs: number): void {
    const now = this.now();
    this.at(now);
    this.messaging.onSubscribed(c.deviceId, granted, latencyUs, now);
  }

  onPublished(_c: Device, _packetId: number, _qos: 1 | 2, latencyUs: number, reasonCode: number): void {
    this.at(this.now());
    this.messaging.onPublished(latencyUs, reasonCode);
  }

  /** MQTT: an inbound PUBLISH. */
  onMessage(c: Device, m: InboundMessage): void {
    this.at(m.receivedUs);
    this.messaging.onMessage(c.deviceId, m, c);
  }

  onFailed(c: Device, f: Failure): void {
    const now = this.now();
    this.at(now);
    const slot = c.deviceId;
    this.fleet.failed(slot);
    recordFailed(this.rec, f, this.dev.intendedUs[slot] as number, now, this.dev.cohort(slot));
    this.outages.joinTargetOutage(slot, now, c.socketOpenUs);
    this.dev.failover(slot);
    this.steering.onEnded(slot, c);
    this.fleet.reconnectLater(slot, now);
    this.maybeFinish();
  }

  onLost(c: Device, f: Failure): void {
    if (this.fleet.isAbandoned(c)) return;
    const now = this.now();
    this.at(now);
    const slot = c.deviceId;
    // A session herd's own silent outage made dark was counted as that outage's drop, not the target's.
    const herdsOutage = this.fleet.lost(slot);
    if (!herdsOutage) {
      this.outages.joinTargetOutage(slot, now, f.code === KEEPALIVE_TIMEOUT.code ? c.pingSentUs : now);
      this.rec.counters.disconnects++;
      this.rec.error(f, this.dev.cohort(slot));
      this.dev.attemptsSinceDrop[slot] = 0;
    }
    this.steering.restartBackoff(slot, now - c.readyUs);
    this.steering.onEnded(slot, c);
    this.messaging.sessionEnded(slot);
    this.fleet.reconnectLater(slot, now);
    this.maybeFinish();
  }

  onClosed(c: Device): void {
    if (this.fleet.isAbandoned(c)) return;
    this.steering.restartBackoff(c.deviceId, this.now() - c.readyUs);
    this.messaging.sessionEnded(c.deviceId);
    this.fleet.closed(c.deviceId, this.now());
    this.maybeFinish();
  }

  // ---- the per-second tick: flush, keepalive, teardown at the plan's end ----

  private scheduleTick(): void {
    const now = this.now();
    const nextSecondUs = (Math.floor(now / 1e6) + 1) * 1e6;
    const teardownUs = this.o.plan.durationUs;
    const atUs = !this.tearingDown && teardownUs > now && teardownUs < nextSecondUs ? teardownUs : nextSecondUs;
    this.tickTimer = this.clock.setTimeout((r) => r.onTick(), Math.max(1, Math.ceil((atUs - now) / 1000)), this);
  }

  private onTick(): void {
    const now = this.now();
    if (!this.tearingDown && now >= this.o.plan.durationUs) {
      this.scheduler.startDue();
      this.teardown();
    }
    this.at(now);
    this.emitReady();
    if (!this.tearingDown) {
      // Nothing received for K after a PINGREQ: the target is gone as far as the device can tell.
      // Lost like any other session (onLost): counted, and the policy applies.
      const device = (slot: number): Device | null => this.fleet.device(slot);
      const session = (slot: number): number => this.dev.session[slot] as number;
      const dead = (slot: number): void => this.fleet.device(slot)?.expire(KEEPALIVE_TIMEOUT);
      keepaliveDue(this.keepalive, { device, session }, now, dead);
      this.steering.keepaliveDue(now, device, session, dead);
    }
    if (this.finished !== null) this.scheduleTick();
  }

  /** Moves the recorder to the second `nowUs` is in (see Recorder.advance). */
  private at(nowUs: number): void {
    this.rec.advance(nowUs, this.fleet.connected, this.fleet.handshaking);
  }

  private emitReady(): void {
    const ready = this.rec.takeReady();
    if (ready.length === 0) return;
    const health = this.health.sample(this.scheduleLagMaxUs);
    this.scheduleLagMaxUs = 0;
    ready.forEach((d, i) => this.o.emit(d, i === ready.length - 1 ? health : null));
  }

  // ---- teardown ----

  private teardown(): void {
    if (this.tearingDown) return;
    this.at(this.now());
    this.tearingDown = true;
    const { notStarted, reconnectsCancelled } = this.scheduler.stop();
    this.rec.counters.dropped += notStarted;
    this.rec.counters.reconnectsCancelled += reconnectsCancelled;
    this.messaging.stop();
    this.fleet.endAll(this.clock, () => this.at(this.now()));
    // Handshakes still in flight get a bounded time to finish; then they are counted as in flight.
    const graceMs = Math.min(5_000, this.o.scenario.device.connectTimeoutUs / 1000);
    this.forceTimer = this.clock.setTimeout((r) => r.forceEnd(), graceMs + CLOSE_GRACE_MS + 500, this);
    this.maybeFinish();
  }

  private forceEnd(): void {
    if (this.finished === null) return;
    this.inFlightAtEnd += this.fleet.abortAll();
    this.finish();
  }

  private maybeFinish(): void {
    if (this.tearingDown && this.fleet.idle) this.finish();
  }

  private finish(): void {
    const done = this.finished;
    if (done === null) return;
    this.finished = null;
    if (this.tickTimer !== null) this.clock.clearTimeout(this.tickTimer);
    if (this.forceTimer !== null) this.clock.clearTimeout(this.forceTimer);
    this.health.stop();
    this.at(this.now());
    this.emitReady();
    const delta = this.rec.finishCurrent(0, 0);
    done({ inFlightAtEnd: this.inFlightAtEnd, delivery: this.messaging.state(), delta, health: this.health.sample(this.scheduleLagMaxUs) });
  }
}
