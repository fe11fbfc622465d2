/**
 * Runs one worker's slice of the plan. It keeps the attempt, the per-second tick and the teardown;
 * the scheduler says when an attempt is due, the fleet alone moves devices between handshaking,
 * held and closing, and every part that reacts to a session's life (what an attempt measured,
 * steering, outages, keepalive, messaging, the reconnect policy) is a listener that engine-parts.ts
 * builds and registers in order: the devices' reports go to them all through session-life.ts.
 * Emits one MetricsDelta per second through `emit`.
 */
import type { Failure } from '../protocols/classify.js';
import { CLOSE_GRACE_MS } from '../protocols/mqtt/connection.js';
import type { Device, DeviceOwner } from '../protocols/device.js';
import type { Recorder } from '../metrics/recorder.js';
import type { EngineClock, TimerHandle } from '../util/clock.js';
import type { DeviceTable } from './device-table.js';
import type { Emitter } from './emitter.js';
import { buildEngine, type RunnerSide } from './engine-parts.js';
import type { Fleet } from './fleet.js';
import type { Scheduler } from './scheduler.js';
import type { DeviceReport, RunKept, SessionLife } from './session-life.js';
import type { RunEnd, RunnerOptions } from './runner-options.js';

export type { RunEnd, RunnerOptions };

export class Runner implements DeviceOwner {
  private readonly o: RunnerOptions;
  private readonly clock: EngineClock;
  private readonly rec: Recorder;
  private readonly dev: DeviceTable;
  private readonly fleet: Fleet;
  private readonly scheduler: Scheduler;
  private readonly life: SessionLife;
  private readonly out: Emitter;
  private tearingDown = false;
  private tickTimer: TimerHandle | null = null;
  private forceTimer: TimerHandle | null = null;
  private finished: ((r: RunEnd) => void) | null = null;

  constructor(o: RunnerOptions) {
    this.o = o;
    this.clock = o.clock;
    const side: RunnerSide = {
      tearingDown: () => this.tearingDown,
      at: (us) => this.at(us),
      attempt: (slot, intendedUs, isReconnect) => this.attempt(slot, intendedUs, isReconnect),
      socketsBehind: () => o.socketsBehind?.(this) === true,
    };
    const e = buildEngine(o, side, o.preciseWake?.(this));
    this.rec = e.rec;
    this.dev = e.dev;
    this.fleet = e.fleet;
    this.scheduler = e.scheduler;
    this.life = e.life;
    this.out = e.out;
  }

  now(): number {
    return this.clock.nowUs();
  }

  /** Runs until teardown completes; resolves with what was still in flight at the end. */
  run(): Promise<RunEnd> {
    this.out.start();
    this.life.start();
    this.scheduler.start();
    this.scheduleTick();
    return new Promise((resolve) => {
      this.finished = resolve;
    });
  }

  /** Starts one attempt; returns whether a socket was opened. */
  private attempt(slot: number, intendedUs: number, isReconnect: boolean): boolean {
    const now = this.advance();
    const d = this.dev;
    if (isReconnect) this.rec.counters.reconnects++;
    if (now < (d.offlineUntilUs[slot] as number)) {
      // No network: the attempt fails on the device, counted as "offline"; the next follows the device's
      // own timer from when this one was due (a late turn of herd's must not move a fleet's lock step).
      this.rec.counters.offlineAttempts++;
      this.fleet.reconnectLater(slot, intendedUs);
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
    this.out.opened(c, intendedUs);
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

  // Messaging reports reach the listeners with the device's own arguments (session-life.ts unpacks
  // them): a report that gains an argument changes device.ts and its listener, not the runner.
  onSubscribed(...a: DeviceReport<'onSubscribed'>): void {
    this.life.deviceSubscribed(this.advance(), ...a);
  }

  onPublished(...a: DeviceReport<'onPublished'>): void {
    this.advance();
    this.life.devicePublished(...a);
  }

  /** MQTT: an inbound PUBLISH. */
  onMessage(...a: DeviceReport<'onMessage'>): void {
    this.at(a[1].receivedUs);
    this.life.deviceMessage(...a);
  }

  onFailed(c: Device, f: Failure): void {
    this.life.failed(c.deviceId, c, f, this.advance());
    this.maybeFinish();
  }

  onLost(c: Device, f: Failure): void {
    if (this.fleet.isAbandoned(c)) return;
    this.life.lost(c.deviceId, c, f, this.advance(), this.fleet.isDark(c.deviceId));
    this.maybeFinish();
  }

  onClosed(c: Device): void {
    if (this.fleet.isAbandoned(c)) return;
    this.life.closed(c.deviceId, c, this.now());
    this.maybeFinish();
  }

  batchEnded(): void {
    this.scheduler.batchEnded();
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
    if (!this.tearingDown && now >= this.o.plan.durationUs) {
      // Attempts planned before teardown start first (a spike planned at the plan's end is not dropped).
      this.scheduler.startDue();
      this.stop();
    }
    this.at(now);
    this.out.flush();
    if (!this.tearingDown) this.life.tick(now);
    if (this.finished !== null) this.scheduleTick();
  }

  /** Moves the recorder to the second `nowUs` is in (see Recorder.advance). */
  private at(nowUs: number): void {
    this.rec.advance(nowUs, this.fleet.connected, this.fleet.handshaking);
  }

  /** Moves the recorder to now; returns now. */
  private advance(): number {
    const now = this.now();
    this.at(now);
    return now;
  }

  /** Starts teardown now (end of plan, or an abort from the coordinator). */
  stop(): void {
    if (this.tearingDown) return;
    const now = this.advance();
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

  /** The grace ran out: what is still handshaking is counted as in flight at the end. */
  private forceEnd(): void {
    if (this.finished !== null) this.finish(this.fleet.abortAll());
  }

  private maybeFinish(): void {
    if (this.tearingDown && this.fleet.idle) this.finish();
  }

  private finish(inFlightAtEnd = 0): void {
    const done = this.finished;
    if (done === null) return;
    this.finished = null;
    if (this.tickTimer !== null) this.clock.clearTimeout(this.tickTimer);
    if (this.forceTimer !== null) this.clock.clearTimeout(this.forceTimer);
    this.out.stop();
    this.advance();
    this.out.flush();
    this.life.ending();
    const delta = this.rec.finishCurrent(0, 0);
    const kept: RunKept = { delivery: {}, names: [] };
    this.life.finish(kept);
    done({ inFlightAtEnd, ...kept, delta, health: this.out.sample() });
  }
}
