/**
 * A deterministic EngineClock for the engine's fake-clock tier: time moves only when a test says
 * so, and due timers fire in time order (ties in the order they were set), each with the clock
 * standing exactly at its due time. Immediates run before time moves on, like Node's check phase.
 * I/O (`io`: bytes a socket got) fires in time order with the timers, except after a stall
 * (`stallTo`: the worker was busy), when one loop turn runs in Node's order: every timer due,
 * then every I/O that became ready meanwhile, then the immediates.
 */
import type { EngineClock, TimerHandle } from '../../src/util/clock.js';

interface Entry {
  atUs: number;
  seq: number;
  fn: (arg: never) => void;
  arg: unknown;
  live: boolean;
  io: boolean;
}

/** Bounds every loop: a test that schedules without end fails instead of hanging. */
const MAX_FIRES = 5_000_000;

export class FakeClock implements EngineClock {
  private now: number;
  private seq = 0;
  private timers: Entry[] = [];
  private immediates: Entry[] = [];

  constructor(startUs = 0) {
    this.now = startUs;
  }

  nowUs(): number {
    return this.now;
  }

  setTimeout<A>(fn: (arg: A) => void, delayMs: number, arg: A): TimerHandle {
    // Node: a delay below 1 ms (or not a number) is 1 ms.
    const ms = Number.isFinite(delayMs) && delayMs >= 1 ? delayMs : 1;
    return this.at(fn, ms * 1000, arg, false);
  }

  /** A µs timer (not part of EngineClock): fires `fn(arg)` exactly `delayUs` (≥ 1) from now — a precise wake-up's model. */
  setTimeoutUs<A>(fn: (arg: A) => void, delayUs: number, arg: A): TimerHandle {
    return this.at(fn, Math.max(1, delayUs), arg, false);
  }

  /** I/O: `fn(arg)` is what the loop does with bytes that reach a socket `delayUs` (≥ 1) from now. */
  io<A>(fn: (arg: A) => void, delayUs: number, arg: A): TimerHandle {
    return this.at(fn, Math.max(1, delayUs), arg, true);
  }

  clearTimeout(h: TimerHandle): void {
    (h as Entry).live = false;
  }

  setImmediate<A>(fn: (arg: A) => void, arg: A): TimerHandle {
    const e: Entry = { atUs: this.now, seq: this.seq++, fn: fn as (arg: never) => void, arg, live: true, io: false };
    this.immediates.push(e);
    return e;
  }

  clearImmediate(h: TimerHandle): void {
    (h as Entry).live = false;
  }

  /** Timers and immediates still waiting (a finished engine leaves none). */
  get pending(): number {
    return this.timers.filter((e) => e.live).length + this.immediates.filter((e) => e.live).length;
  }

  /** Moves time to `toUs`, firing everything due on the way, each at its own time. */
  advanceTo(toUs: number): void {
    let fires = 0;
    for (;;) {
      fires += this.runImmediates();
      const next = this.nextTimer();
      if (next === null || next.atUs > toUs) break;
      this.now = Math.max(this.now, next.atUs);
      next.live = false;
      this.timers.splice(this.timers.indexOf(next), 1);
      (next.fn as (arg: unknown) => void)(next.arg);
      if (++fires > MAX_FIRES) throw new Error('FakeClock: too many timers fired (a loop without end?)');
    }
    if (toUs > this.now) this.now = toUs;
    this.runImmediates();
  }

  /**
   * The loop was blocked until `toUs` (a busy worker): time jumps there, and the turns that follow
   * run every timer then due, then the I/O that became ready during the stall — at most
   * `readPerTurn` events a turn, as a reader bounded per turn does — then the immediates queued
   * before that turn's check phase, until everything due is read and no immediate is left.
   */
  stallTo(toUs: number, readPerTurn = Infinity): void {
    this.runImmediates();
    if (toUs > this.now) this.now = toUs;
    this.fire(this.due(false));
    for (let turn = 0; this.unread || this.immediates.length > 0; turn++) {
      if (turn > MAX_FIRES) throw new Error('FakeClock: a stall that never catches up');
      this.fire(this.due(true).slice(0, readPerTurn));
      const batch = this.immediates;
      this.immediates = [];
      this.fire(batch);
    }
  }

  /** Whether I/O that is due has not been read yet (only inside a stall with a bounded reader). */
  get unread(): boolean {
    return this.due(true).length > 0;
  }

  advanceBy(us: number): void {
    this.advanceTo(this.now + us);
  }

  /** Advances until `done()` holds, in steps of `stepUs`, failing past `limitUs`. */
  runUntil(done: () => boolean, limitUs: number, stepUs = 1_000): void {
    while (!done()) {
      if (this.now >= limitUs) throw new Error(`FakeClock: condition not met by ${limitUs} µs`);
      this.advanceTo(Math.min(limitUs, this.now + stepUs));
    }
  }

  private due(io: boolean): Entry[] {
    return this.timers
      .filter((e) => e.live && e.io === io && e.atUs <= this.now)
      .sort((a, b) => a.atUs - b.atUs || a.seq - b.seq);
  }

  private fire(entries: readonly Entry[]): void {
    for (const e of entries) {
      if (!e.live) continue;
      e.live = false;
      (e.fn as (arg: unknown) => void)(e.arg);
    }
  }

  private at<A>(fn: (arg: A) => void, us: number, arg: A, io: boolean): TimerHandle {
    const e: Entry = { atUs: this.now + us, seq: this.seq++, fn: fn as (arg: never) => void, arg, live: true, io };
    this.timers.push(e);
    return e;
  }

  private runImmediates(): number {
    let n = 0;
    while (this.immediates.length > 0) {
      const batch = this.immediates;
      this.immediates = [];
      for (const e of batch) {
        if (!e.live) continue;
        e.live = false;
        (e.fn as (arg: unknown) => void)(e.arg);
        if (++n > MAX_FIRES) throw new Error('FakeClock: too many immediates (a loop without end?)');
      }
    }
    return n;
  }

  private nextTimer(): Entry | null {
    this.timers = this.timers.filter((e) => e.live);
    let best: Entry | null = null;
    for (const e of this.timers)
      if (best === null || e.atUs < best.atUs || (e.atUs === best.atUs && e.seq < best.seq)) best = e;
    return best;
  }
}
