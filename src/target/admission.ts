/**
 * Token-bucket admission control, the protective measure that "spreads the load over a few
 * minutes": a CONNECT takes a token if one is there, waits in a bounded FIFO queue if not, and is
 * shed at once when the queue is full ("connection rate exceeded") or after waiting too long
 * ("server busy"). Shedding is cheap on purpose: the expensive handshake is never started for a
 * device that will be refused. Pure except for the injected clock and timer.
 */
import type { AdmissionOptions } from '../scenario/target-options.js';

export type ShedReason = 'rate_exceeded' | 'server_busy';

export interface AdmissionRequest {
  /** False once the device has gone away: it is skipped without spending a token. */
  alive(): boolean;
  admit(): void;
  shed(reason: ShedReason): void;
}

export interface AdmissionTimers {
  nowMs(): number;
  /** Schedules fn after ms; returns a cancel function. */
  after(ms: number, fn: () => void): () => void;
}

interface Waiting {
  req: AdmissionRequest;
  enqueuedMs: number;
}

export class TokenBucket {
  private tokens: number;
  private lastMs: number;

  constructor(
    private readonly ratePerS: number,
    private readonly burst: number,
    nowMs: number,
  ) {
    this.tokens = burst;
    this.lastMs = nowMs;
  }

  private refill(nowMs: number): void {
    if (nowMs > this.lastMs) {
      this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.lastMs) * this.ratePerS) / 1000);
      this.lastMs = nowMs;
    }
  }

  tryTake(nowMs: number): boolean {
    this.refill(nowMs);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }

  /** ms until one whole token is available (0 when one is there now). */
  msUntilToken(nowMs: number): number {
    this.refill(nowMs);
    return this.tokens >= 1 ? 0 : ((1 - this.tokens) * 1000) / this.ratePerS;
  }
}

export class Admission {
  private readonly bucket: TokenBucket | null;
  private readonly queue: Waiting[] = [];
  private head = 0;
  private cancelTimer: (() => void) | null = null;

  constructor(
    private readonly options: AdmissionOptions | null,
    private readonly timers: AdmissionTimers,
  ) {
    this.bucket = options === null ? null : new TokenBucket(options.ratePerS, options.burst, timers.nowMs());
  }

  /** CONNECTs waiting for a token now. */
  get queued(): number {
    return this.queue.length - this.head;
  }

  request(req: AdmissionRequest): void {
    if (this.bucket === null || this.options === null) return req.admit();
    const now = this.timers.nowMs();
    // FIFO: a newcomer never overtakes devices already waiting.
    if (this.queued === 0 && this.bucket.tryTake(now)) return req.admit();
    if (this.queued >= this.options.queue) return req.shed('rate_exceeded');
    this.queue.push({ req, enqueuedMs: now });
    this.arm();
  }

  /** Sheds everything still waiting (the process is stopping). */
  close(): void {
    this.cancelTimer?.();
    this.cancelTimer = null;
    while (this.queued > 0) this.pop().req.shed('server_busy');
  }

  private pop(): Waiting {
    const w = this.queue[this.head] as Waiting;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    return w;
  }

  private arm(): void {
    if (this.cancelTimer !== null || this.bucket === null || this.queued === 0) return;
    const now = this.timers.nowMs();
    const head = this.queue[this.head] as Waiting;
    const opts = this.options as AdmissionOptions;
    // Wake for the next token or the head's queue timeout, whichever comes first.
    const untilTimeoutMs = head.enqueuedMs + opts.queueTimeoutMs - now;
    const waitMs = Math.max(1, Math.ceil(Math.min(this.bucket.msUntilToken(now), untilTimeoutMs)));
    this.cancelTimer = this.timers.after(waitMs, () => {
      this.cancelTimer = null;
      this.drain();
    });
  }

  private drain(): void {
    if (this.bucket === null || this.options === null) return;
    const now = this.timers.nowMs();
    while (this.queued > 0) {
      const w = this.queue[this.head] as Waiting;
      if (!w.req.alive()) {
        this.pop();
        continue;
      }
      if (now - w.enqueuedMs >= this.options.queueTimeoutMs) {
        this.pop();
        w.req.shed('server_busy');
        continue;
      }
      if (!this.bucket.tryTake(now)) break;
      this.pop();
      w.req.admit();
    }
    this.arm();
  }
}
