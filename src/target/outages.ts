/**
 * The outage schedule of one target process: at `atMs` from the run origin an outage starts
 * (a share of open connections is dropped) and for `durationMs` a share of new connections is
 * refused. The origin is the harness's (sent over IPC, same monotonic clock) or, until one
 * arrives, the target's own start. Times are performance.now() milliseconds.
 */
import type { OutageSpec } from './options.js';
import { evenShare, type ShareChooser } from './shares.js';

export interface OutageHooks {
  start(outage: OutageSpec, index: number): void;
  end(outage: OutageSpec, index: number): void;
}

export interface OutageTimers {
  nowMs(): number;
  after(ms: number, fn: () => void): () => void;
}

interface State {
  spec: OutageSpec;
  started: boolean;
  ended: boolean;
  refuse: ShareChooser;
}

export class OutageSchedule {
  private readonly states: State[];
  private originMs: number;
  private cancel: (() => void) | null = null;
  private closed = false;

  constructor(
    outages: readonly OutageSpec[],
    private readonly hooks: OutageHooks,
    private readonly timers: OutageTimers,
  ) {
    this.states = outages.map((spec) => ({ spec, started: false, ended: false, refuse: evenShare(spec.share) }));
    this.originMs = timers.nowMs();
    this.arm();
  }

  setOrigin(originMs: number): void {
    this.originMs = originMs;
    this.arm();
  }

  get activeCount(): number {
    let n = 0;
    for (const s of this.states) if (s.started && !s.ended) n++;
    return n;
  }

  /** The outage that decides about a new connection now, if any refuses it (a blackhole refuses none). */
  refusing(): OutageSpec | null {
    this.fireDue();
    for (const s of this.states) if (s.started && !s.ended && s.spec.mode !== 'blackhole' && s.refuse()) return s.spec;
    return null;
  }

  /** A blackhole outage is on and takes this delivery (its share of them, evenly): it is dropped. */
  swallowing(): boolean {
    this.fireDue();
    for (const s of this.states) if (s.started && !s.ended && s.spec.mode === 'blackhole' && s.refuse()) return true;
    return false;
  }

  close(): void {
    this.closed = true;
    this.cancel?.();
    this.cancel = null;
  }

  private fireDue(): void {
    const t = this.timers.nowMs() - this.originMs;
    this.states.forEach((s, i) => {
      if (!s.started && t >= s.spec.atMs) {
        s.started = true;
        this.hooks.start(s.spec, i);
      }
      if (s.started && !s.ended && t >= s.spec.atMs + s.spec.durationMs) {
        s.ended = true;
        this.hooks.end(s.spec, i);
      }
    });
  }

  private arm(): void {
    this.cancel?.();
    this.cancel = null;
    if (this.closed) return;
    this.fireDue();
    let next = Infinity;
    for (const s of this.states) {
      if (!s.started) next = Math.min(next, s.spec.atMs);
      else if (!s.ended) next = Math.min(next, s.spec.atMs + s.spec.durationMs);
    }
    if (next === Infinity) return;
    const waitMs = Math.max(0, next - (this.timers.nowMs() - this.originMs));
    this.cancel = this.timers.after(waitMs, () => {
      this.cancel = null;
      this.arm();
    });
  }
}
