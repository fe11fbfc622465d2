/**
 * Runs one worker's slice of the plan. It keeps the attempt, the per-second tick and the teardown:
 * the scheduler (scheduler.ts) says when an attempt or an event is due; the fleet (fleet.ts) alone
 * moves devices between handshaking, held and closing; everything that reacts to a session's life
 * (what an attempt measured, steering, outages, keepalive, messaging, the reconnect policy) is a
 * listener registered in session-listeners.ts, told in order through session-life.ts. Emits one
 * MetricsDelta per second through `emit`.
 */
import type { Failure } from '../protocols/classify.js';
import { CLOSE_GRACE_MS } from '../protocols/mqtt/connection.js';
import type { InboundMessage } from '../protocols/mqtt/messaging.js';
import type { Device, DeviceOwner } from '../protocols/device.js';
import { Recorder } from '../metrics/recorder.js';
import { expandTemplate } from '../scenario/template.js';
import type { EngineClock, TimerHandle } from '../util/clock.js';
import { recordOpened } from './connect-record.js';
import { DeviceTable } from './device-table.js';
import { EV_RECONNECT } from './event-heap.js';
import { Fleet, type FleetHost } from './fleet.js';
import { HealthMonitor } from './health.js';
import { Scheduler } from './scheduler.js';
import { SessionLife } from './session-life.js';
import { sessionParts, type EngineCore, type SessionParts } from './session-listeners.js';
import type { RunEnd, RunKept, RunnerOptions } from './runner-options.js';

export type { RunEnd, RunnerOptions };

export class Runner implements DeviceOwner {
  private readonly o: RunnerOptions;
  private readonly clock: EngineClock;
  private readonly rec: Recorder;
  private readonly health: Pick<HealthMonitor, 'start' | 'stop' | 'sample'>;
  private readonly dev: DeviceTable;
  private readonly fleet: Fleet;
  private readonly scheduler: Scheduler;
  private readonly parts: SessionParts;
  private readonly life: SessionLife;
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
    this.rec = new Recorder(o.scenario.cohorts.map((c) => c.name));
    this.health = o.health ?? new HealthMonitor();
    this.dev = new DeviceTable(o, expandTemplate);
    // Getters, not copies: the parts read the runner's state as it is when they act.
    const core: EngineCore & FleetHost = {
      o,
      rec: this.rec,
      dev: this.dev,
      get fleet() {
        return runner.fleet;
      },
      get scheduler() {
        return runner.scheduler;
      },
      get tearingDown() {
        return runner.tearingDown;
      },
      now: () => this.now(),
      at: (us) => this.at(us),
      push: (atUs, slot, kind) => this.scheduler.push(atUs, slot, kind),
      handshakeEnded: () => this.scheduler.handshakeEnded(),
    };
    this.fleet = new Fleet(o.ids.length, core);
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
        churn: (slot, atUs) => this.parts.churn(slot, atUs),
        event: (kind, slot, atUs, nowUs) => this.event(kind, slot, atUs, nowUs),
      },
    );
    this.parts = sessionParts(core);
    this.life = new SessionLife(this.parts.listeners);
  }

  now(): number {
    return this.clock.nowUs();
  }

  /** Runs until teardown completes; resolves with what was still in flight at the end. */
  run(): Promise<RunEnd> {
    this.health.start();
    this.life.start();
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
    if (kind !== EV_RECONNECT) {
      this.parts.events[kind]?.(slot, atUs, nowUs);
      return false;
    }
    this.dev.pending[slot] = 0;
    return this.attempt(slot, atUs, true);
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
    this.life.attemptStarted(slot, c);
    const lagUs = recordOpened(this.rec, c, intendedUs);
    if (lagUs > this.scheduleLagMaxUs) this.scheduleLagMaxUs = lagUs;
    return true;
  }

  // ---- the devices' reports (DeviceOwner), told to the session listeners ----

  onConnected(c: Device): void {
    const now = c.readyUs;
    this.at(now);
    this.life.connected(c.deviceId, c, now);
    // A session that comes up during teardown is ended at once.
    if (this.tearingDown) this.fleet.endSession(c.deviceId, 'end', 'never');
    else this.life.held(c.deviceId, c, now);
  }

  onSubscribed(c: Device, _packetId: number, granted: number[], latencyUs: number): void {
    const now = this.now();
    this.at(now);
    this.life.subscribed(c.deviceId, granted, latencyUs, now);
  }

  onPublished(_c: Device, _packetId: number, _qos: 1 | 2, latencyUs: number, reasonCode: number): void {
    this.at(this.now());
    this.life.published(latencyUs, reasonCode);
  }

  /** MQTT: an inbound PUBLISH. */
  onMessage(c: Device, m: InboundMessage): void {
    this.at(m.receivedUs);
    this.life.message(c.deviceId, m, c);
  }

  onFailed(c: Device, f: Failure): void {
    const now = this.now();
    this.at(now);
    this.life.failed(c.deviceId, c, f, now);
    this.maybeFinish();
  }

  onLost(c: Device, f: Failure): void {
    if (this.fleet.isAbandoned(c)) return;
    const now = this.now();
    this.at(now);
    this.life.lost(c.deviceId, c, f, now, this.fleet.isDark(c.deviceId));
    this.maybeFinish();
  }

  onClosed(c: Device): void {
    if (this.fleet.isAbandoned(c)) return;
    this.life.closed(c.deviceId, c, this.now());
    this.maybeFinish();
  }

  // ---- the per-second tick: flush, the listeners' tick (keepalive), teardown at the plan's end ----

  private scheduleTick(): void {
    const now = this.now();
    const nextSecondUs = (Math.floor(now / 1e6) + 1) * 1e6;
    const endUs = this.o.plan.durationUs;
    const atUs = !this.tearingDown && endUs > now && endUs < nextSecondUs ? endUs : nextSecondUs;
    this.tickTimer = this.clock.setTimeout((r) => r.onTick(), Math.max(1, Math.ceil((atUs - now) / 1000)), this);
  }

  private onTick(): void {
    const now = this.now();
    if (!this.tearingDown && now >= this.o.plan.durationUs) this.teardown();
    this.at(now);
    this.emitReady();
    if (!this.tearingDown) this.life.tick(now);
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
    const now = this.now();
    this.at(now);
    this.tearingDown = true;
    const { notStarted, reconnectsCancelled } = this.scheduler.stop();
    this.rec.counters.dropped += notStarted;
    this.rec.counters.reconnectsCancelled += reconnectsCancelled;
    this.life.teardown(now);
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
    const kept: RunKept = { delivery: {} };
    this.life.finish(kept);
    done({ inFlightAtEnd: this.inFlightAtEnd, ...kept, delta, health: this.health.sample(this.scheduleLagMaxUs) });
  }
}
