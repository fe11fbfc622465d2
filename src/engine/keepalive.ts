import type { Device } from '../protocols/device.js';

/**
 * A one-second timing wheel of PINGREQ due times, so 100k held sessions cost no timer each.
 * First pings are spread over the interval so a fleet that connected together does not ping
 * together.
 */
export class KeepaliveWheel {
  readonly keepaliveUs: number;
  private readonly buckets = new Map<number, number[]>();
  private readonly intervalUs: number;
  private nextBucket = 0;

  constructor(keepaliveUs: number) {
    this.keepaliveUs = keepaliveUs;
    // Ping a little before the interval so the server (which allows 1.5×) never times us out.
    this.intervalUs = Math.max(1e6, keepaliveUs * 0.9);
  }

  add(slot: number, nowUs: number): void {
    // Spread by slot: deterministic and even, without an RNG per device.
    const offset = ((slot * 0.618033988749895) % 1) * this.intervalUs;
    this.put(slot, nowUs + Math.max(1e6, offset));
  }

  reschedule(slot: number, nowUs: number): void {
    this.put(slot, nowUs + this.intervalUs);
  }

  /** Slots whose ping is due by `nowUs`; each is removed and must be rescheduled by the caller. */
  *due(nowUs: number): Generator<number> {
    const upTo = Math.floor(nowUs / 1e6);
    for (; this.nextBucket <= upTo; this.nextBucket++) {
      const b = this.buckets.get(this.nextBucket);
      if (!b) continue;
      this.buckets.delete(this.nextBucket);
      yield* b;
    }
  }

  private put(slot: number, atUs: number): void {
    const k = Math.max(this.nextBucket, Math.ceil(atUs / 1e6));
    const b = this.buckets.get(k);
    if (b) b.push(slot);
    else this.buckets.set(k, [slot]);
  }
}

/**
 * Pings every connected, non-silent session whose turn has come (one wheel per cohort); a session
 * still waiting for the previous PINGRESP after a whole interval goes to `dead` instead.
 */
export function pingDue(
  wheels: readonly KeepaliveWheel[],
  devices: { conns: readonly (Device | null)[]; silent: Uint8Array },
  now: number,
  dead: (slot: number, cohort: number, c: Device) => void,
): void {
  wheels.forEach((wheel, cohort) => {
    for (const slot of wheel.due(now)) {
      const c = devices.conns[slot];
      if (!c || c.state !== 'connected' || devices.silent[slot] === 1) continue;
      if (!Number.isNaN(c.pingSentUs) && now - c.pingSentUs > wheel.keepaliveUs) {
        dead(slot, cohort, c);
        continue;
      }
      c.ping();
      wheel.reschedule(slot, now);
    }
  });
}
