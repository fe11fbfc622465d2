/**
 * A worker's per-second deltas of its observed outages (see observed-outages.ts), sent to the
 * coordinator beside the injected outages' deltas and joined there (observed-merge.ts).
 */
import { createHistogram, encodeHistogram, recordUs, type Histogram } from './histogram.js';
/** The shape of recorder.ts's OutageDelta, plus when the event started and ended. */
export interface ObservedDelta {
  /** Start and first accept after it, µs from the run origin (the latter null until it happens). */
  atUs: number;
  acceptedUs: number | null;
  dropped: number;
  recovered: number;
  /** µs from the first accept until each recovered device was connected again. */
  recoveryUs?: string;
  attempts?: string;
}

interface EventState {
  atUs: number;
  acceptedUs: number | null;
  dropped: number;
  recovered: number;
  recoveryUs: Histogram | null;
  attempts: Histogram | null;
  touched: boolean;
}

export class ObservedRecorder {
  private readonly events: EventState[] = [];
  clamped = 0;

  started(event: number, atUs: number): void {
    // The engine clock has sub-µs fractions; results hold integer µs.
    const e = { atUs: Math.round(atUs), acceptedUs: null, dropped: 0, recovered: 0, recoveryUs: null, attempts: null };
    this.events[event] = { ...e, touched: true };
  }

  accepted(event: number, atUs: number): void {
    const e = this.events[event];
    if (!e) return;
    e.acceptedUs = Math.round(atUs);
    e.touched = true;
  }

  /** The event's start and first accept (null before it). */
  acceptedUs(event: number): number | null {
    return this.events[event]?.acceptedUs ?? null;
  }

  hit(event: number): void {
    const e = this.events[event];
    if (!e) return;
    e.dropped++;
    e.touched = true;
  }

  recovered(event: number, recoveryUs: number, attempts: number): void {
    const e = this.events[event];
    if (!e) return;
    e.recovered++;
    e.recoveryUs ??= createHistogram();
    e.attempts ??= createHistogram();
    if (!recordUs(e.recoveryUs, recoveryUs)) this.clamped++;
    recordUs(e.attempts, attempts);
    e.touched = true;
  }

  /** This second's deltas by event, or null when nothing happened to any event. */
  flush(): Record<string, ObservedDelta> | null {
    let out: Record<string, ObservedDelta> | null = null;
    this.events.forEach((e, i) => {
      if (!e.touched) return;
      const d: ObservedDelta = { atUs: e.atUs, acceptedUs: e.acceptedUs, dropped: e.dropped, recovered: e.recovered };
      if (e.recoveryUs && e.recoveryUs.totalCount > 0) d.recoveryUs = encodeHistogram(e.recoveryUs);
      if (e.attempts && e.attempts.totalCount > 0) d.attempts = encodeHistogram(e.attempts);
      e.recoveryUs?.reset();
      e.attempts?.reset();
      e.dropped = 0;
      e.recovered = 0;
      e.touched = false;
      (out ??= {})[String(i)] = d;
    });
    return out;
  }
}
