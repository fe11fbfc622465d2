/**
 * The open-model scheduler of one worker: three time-ordered sources —
 * the plan's intended connect times (a cursor), the churn schedule (a cursor) and an event heap
 * (reconnects, outages, publishes, requests) — drained on an absolute clock: everything whose time
 * has come starts on each wake-up, a batch per event-loop turn, and past the handshake cap the
 * rest waits (the wait shows as schedule lag, never as a later intended time).
 */
import type { EngineClock, TimerHandle } from '../util/clock.js';
import { EventHeap, EV_RECONNECT } from './event-heap.js';

export interface SchedulerHost {
  /** Handshakes in flight now (what the cap compares). */
  readonly handshaking: number;
  /** Device `slot`'s planned attempt is due (intended at `atUs`); whether a socket was opened. */
  planned(slot: number, atUs: number): boolean;
  /** Device `slot` churns at `atUs`. */
  churn(slot: number, atUs: number): void;
  /** An event from the heap is due; whether it opened a socket. */
  event(kind: number, slot: number, atUs: number, nowUs: number): boolean;
}

export interface SchedulerOptions {
  clock: EngineClock;
  /** Slots in intended-time order and each slot's intended time. */
  slots: number;
  plannedAtUs(slot: number): number;
  churn: { slot: Uint32Array; atUs: Float64Array };
  /** 0 = no cap. */
  maxHandshakesInFlight: number;
  /** A µs wake-up finer than the clock's ms timers (the native core's), when the run has one. */
  precise?: PreciseWake | undefined;
}

/**
 * One wake-up `afterUs` µs from now, replacing an armed one: whether it was armed (false while the
 * thing that keeps it does not exist yet, and the scheduler uses the clock's ms timer). Node's
 * timers are whole ms, so a timer set for floor(wait) wakes up to 1 ms early and then sleeps again.
 */
export interface PreciseWake {
  arm(afterUs: number, fn: () => void): boolean;
  disarm(): void;
}

/** Attempts launched per event-loop turn, so completions are timestamped while a spike launches. */
export const LAUNCH_BATCH = 64;

export class Scheduler {
  private readonly o: SchedulerOptions;
  private readonly host: SchedulerHost;
  private readonly heap = new EventHeap();
  private cursor = 0;
  private churnCursor = 0;
  private stopped = false;
  private timer: TimerHandle | null = null;
  private timerAtUs = Infinity;
  /** A precise wake-up is armed (for timerAtUs). */
  private armed = false;
  private readonly onPrecise = (): void => {
    this.armed = false;
    this.drain();
  };
  private immediate: TimerHandle | null = null;
  /**
   * The last drain stopped at the handshake cap. Only a handshake ending lowers the count the cap
   * compares (fleet.ts ready/failed), so nothing re-polls: handshakeEnded starts the next drain.
   */
  private capped = false;

  constructor(o: SchedulerOptions, host: SchedulerHost) {
    this.o = o;
    this.host = host;
  }

  start(): void {
    this.wake();
  }

  /** Adds an event, waking earlier if the scheduler sleeps past it. */
  push(atUs: number, slot: number, kind: number): void {
    this.heap.push(atUs, slot, kind);
    if (atUs < this.timerAtUs) this.unarm();
    this.wake();
  }

  /**
   * A handshake ended (connected or failed): when the cap was what held attempts back, start the
   * next ones on the next turn instead of at the 1 ms re-poll.
   */
  handshakeEnded(): void {
    if (this.stopped || !this.capped) return;
    this.capped = false;
    this.unarm();
    if (this.immediate === null) this.immediate = this.o.clock.setImmediate(drain, this);
  }

  /**
   * The handshakes that ended came in one batch (the native core's) and this turn is still
   * running: a drain they asked for (handshakeEnded) runs now, not from the next turn's immediate.
   */
  batchEnded(): void {
    if (this.immediate === null || this.stopped) return;
    this.o.clock.clearImmediate(this.immediate);
    this.drain();
  }

  /**
   * Teardown is due: first start every planned attempt intended by now. An attempt intended at the
   * run's last instant belongs to the run; whether its timer or the teardown tick fired first must
   * not decide that it is dropped (and the run called harness-limited). The cap still applies.
   */
  startDue(): void {
    const now = this.o.clock.nowUs();
    while (!this.stopped && !this.capped && this.plannedAt() <= now) this.drain();
  }

  /**
   * Teardown: no more wake-ups. Returns the planned attempts never started (dropped) and the
   * reconnects still waiting (cancelled); every other pending event is discarded.
   */
  stop(): { notStarted: number; reconnectsCancelled: number } {
    this.stopped = true;
    this.unarm();
    if (this.immediate !== null) this.o.clock.clearImmediate(this.immediate);
    this.immediate = null;
    const notStarted = this.o.slots - this.cursor;
    this.cursor = this.o.slots;
    const reconnectsCancelled = this.heap.drain(EV_RECONNECT);
    while (this.heap.size > 0) this.heap.pop();
    return { notStarted, reconnectsCancelled };
  }

  private plannedAt(): number {
    return this.cursor < this.o.slots ? this.o.plannedAtUs(this.cursor) : Infinity;
  }

  private churnAt(): number {
    const c = this.o.churn;
    return this.churnCursor < c.slot.length ? (c.atUs[this.churnCursor] as number) : Infinity;
  }

  /** Cancels the armed wake-up, precise or not. */
  private unarm(): void {
    if (this.timer !== null) this.o.clock.clearTimeout(this.timer);
    if (this.armed) this.o.precise?.disarm();
    this.timer = null;
    this.armed = false;
    this.timerAtUs = Infinity;
  }

  private wake(): void {
    if (this.stopped || this.timer !== null || this.armed || this.immediate !== null) return;
    const due = Math.min(this.plannedAt(), this.churnAt(), this.heap.peekAt());
    if (due === Infinity) return;
    const waitUs = due - this.o.clock.nowUs();
    if (waitUs <= 0) {
      this.immediate = this.o.clock.setImmediate(drain, this);
      return;
    }
    this.timerAtUs = due;
    if (this.o.precise?.arm(waitUs, this.onPrecise) === true) this.armed = true;
    else this.timer = this.o.clock.setTimeout(drain, Math.max(1, Math.floor(waitUs / 1000)), this);
  }

  /** Starts everything due, up to a batch; re-arms itself. */
  drain(): void {
    this.unarm();
    this.immediate = null;
    this.capped = false;
    if (this.stopped) return;
    const now = this.o.clock.nowUs();
    const cap = this.o.maxHandshakesInFlight;
    let launched = 0;
    while (launched < LAUNCH_BATCH) {
      if (cap > 0 && this.host.handshaking >= cap) {
        // Capped: the next handshake to end drains again (a 1 ms re-poll would find the cap unchanged).
        this.capped = true;
        return;
      }
      const planAt = this.plannedAt();
      const churnAt = this.churnAt();
      const at = Math.min(planAt, churnAt, this.heap.peekAt());
      if (at > now) break;
      if (at === planAt) {
        if (this.host.planned(this.cursor++, at)) launched++;
      } else if (at === churnAt) {
        this.host.churn(this.o.churn.slot[this.churnCursor++] as number, at);
      } else {
        const [slot, kind] = this.heap.pop();
        if (this.host.event(kind, slot, at, now)) launched++;
      }
    }
    this.wake();
  }
}

function drain(s: Scheduler): void {
  s.drain();
}
