/**
 * What the runner's parts ask of each other (engine-parts.ts wires them), as classes rather than
 * object literals with getters and closures: a literal with a getter gets a hidden class of its
 * own each time it is made, so code V8 optimised on one Runner (the warm-up's, warm-engine.ts)
 * would be thrown away and compiled again for the next — in the storm. A class's instances share
 * one shape and one set of methods.
 */
import type { Recorder } from '../metrics/recorder.js';
import type { Plan } from '../plan/plan.js';
import type { EngineClock } from '../util/clock.js';
import type { DeviceTable } from './device-table.js';
import { EV_RECONNECT } from './event-heap.js';
import type { Fleet, FleetHost } from './fleet.js';
import type { ObservedRule } from '../metrics/observed-outages.js';
import type { OutageHost, OutagePlayer } from './outages.js';
import type { Scheduler, SchedulerHost } from './scheduler.js';

/** What the runner lends the parts: its state as it is when they act, and its attempt. */
export interface RunnerSide {
  /** Whether teardown has begun. */
  tearingDown(): boolean;
  /** Moves the recorder to the second `nowUs` is in. */
  at(nowUs: number): void;
  /** Starts one attempt; returns whether a socket was opened. */
  attempt(slot: number, intendedUs: number, isReconnect: boolean): boolean;
  /** Whether this worker's devices left socket events unread in the last loop turn (the native core). */
  socketsBehind(): boolean;
}

/** A scheduler event of one kind is due for `slot` (intended at `atUs`). */
export type EventHandler = (slot: number, atUs: number, nowUs: number) => void;

/** The fleet's host: the scheduler it pushes reconnects to is set once the scheduler exists. */
export class FleetSide implements FleetHost {
  scheduler: Scheduler | null = null;
  constructor(
    readonly dev: DeviceTable,
    readonly rec: Recorder,
    private readonly runner: RunnerSide,
  ) {}
  get tearingDown(): boolean {
    return this.runner.tearingDown();
  }
  push(atUs: number, slot: number, kind: number): void {
    this.scheduler?.push(atUs, slot, kind);
  }
  handshakeEnded(): void {
    this.scheduler?.handshakeEnded();
  }
}

/** The scheduler's host: attempts are the runner's; other due events go to their kind's handler. */
export class SchedulerSide implements SchedulerHost {
  outages: OutagePlayer | null = null;
  /** Handlers of the scheduler's event kinds other than EV_RECONNECT, by kind. */
  readonly events: (EventHandler | undefined)[] = [];
  constructor(
    private readonly fleet: Fleet,
    private readonly dev: DeviceTable,
    private readonly runner: RunnerSide,
  ) {}
  get handshaking(): number {
    return this.fleet.handshaking;
  }
  planned(slot: number, atUs: number): boolean {
    return this.runner.attempt(slot, atUs, false);
  }
  churn(slot: number, atUs: number): void {
    this.outages?.churn(slot, atUs);
  }
  event(kind: number, slot: number, atUs: number, nowUs: number): boolean {
    if (kind !== EV_RECONNECT) {
      this.events[kind]?.(slot, atUs, nowUs);
      return false;
    }
    this.dev.pending[slot] = 0;
    return this.runner.attempt(slot, atUs, true);
  }
}

/** The outage player's host. */
export class OutageSide implements OutageHost {
  constructor(
    readonly dev: DeviceTable,
    readonly fleet: Fleet,
    readonly rec: Recorder,
    readonly plan: Plan,
    readonly observedRule: ObservedRule | null,
    private readonly clock: EngineClock,
    private readonly runner: RunnerSide,
  ) {}
  get tearingDown(): boolean {
    return this.runner.tearingDown();
  }
  now(): number {
    return this.clock.nowUs();
  }
  at(nowUs: number): void {
    this.runner.at(nowUs);
  }
  soon(fn: () => void): void {
    this.clock.setImmediate(fn, undefined);
  }
}
