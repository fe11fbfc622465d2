/**
 * Keepalive as MQTT 3.1.1 asks of a client (Keep Alive, in CONNECT's variable header), for 100k held sessions without
 * a timer each.
 *
 * The rule (docs/metrics.md, "Keepalive"): with keepalive K (whole seconds), a session sends one
 * PINGREQ every K; only one is ever outstanding. Any byte received answers it. When the next turn
 * comes (K after the PINGREQ) and nothing at all has arrived since it was sent, the session is
 * dead: KEEPALIVE_TIMEOUT. So a dead peer is declared exactly K after an unanswered PINGREQ and
 * never more than 2·K after the last byte received. K = 0 means no pings and no timeout.
 *
 * A one-second timing wheel holds each session's next turn as (slot, session) pairs: the session
 * generation lets a turn left behind by an earlier connection of the same device be recognised
 * and dropped, never rescheduled, so a device pings once per interval however often it reconnected.
 */
import { keepaliveSeconds } from '../util/duration.js';

/** CONNECT's Keep Alive and the wheel's interval come from this one function (util/duration.ts). */
export { keepaliveSeconds };

/** What the wheel needs of a held device. */
export interface KeepaliveDevice {
  readonly state: string;
  /** When the outstanding ping was sent; NaN when none is outstanding. */
  readonly pingSentUs: number;
  ping(): void;
}

const SECOND_US = 1e6;
const GOLDEN = 0.618033988749895;

export class KeepaliveWheel {
  readonly keepaliveUs: number;
  /** The turn length in whole seconds; 0 = keepalive off. */
  readonly intervalS: number;
  /** bucket (second) → slot, session, slot, session… */
  private readonly buckets = new Map<number, number[]>();
  private nextBucket = 0;

  constructor(keepaliveUs: number) {
    this.keepaliveUs = keepaliveUs;
    this.intervalS = keepaliveSeconds(keepaliveUs);
  }

  /** Entries held (live and stale), for tests and memory checks. */
  get size(): number {
    let n = 0;
    for (const b of this.buckets.values()) n += b.length / 2;
    return n;
  }

  /**
   * A session became connected at `nowUs`. Its first PINGREQ goes out between 1 s and K after
   * CONNECT (spread by slot, so a fleet that connected together does not ping together); CONNECT
   * was the last packet sent, so that is still within K of it.
   */
  add(slot: number, session: number, nowUs: number): void {
    if (this.intervalS === 0) return;
    const spreadS = (slot * GOLDEN) % 1;
    const offsetUs = Math.max(SECOND_US, spreadS * this.intervalS * SECOND_US);
    this.put(Math.ceil((nowUs + offsetUs) / SECOND_US), slot, session);
  }

  /**
   * Takes every turn due by `nowUs` and hands it to `turn` with its bucket; entries are removed,
   * and only `again` puts one back (one interval after the bucket it was taken from).
   */
  sweep(nowUs: number, turn: (slot: number, session: number, bucket: number) => void): void {
    const upTo = Math.floor(nowUs / SECOND_US);
    for (; this.nextBucket <= upTo; this.nextBucket++) {
      const b = this.buckets.get(this.nextBucket);
      if (!b) continue;
      this.buckets.delete(this.nextBucket);
      for (let i = 0; i < b.length; i += 2) turn(b[i] as number, b[i + 1] as number, this.nextBucket);
    }
  }

  /** The session's next turn: one interval after the bucket its last turn came from. */
  again(slot: number, session: number, bucket: number): void {
    this.put(bucket + this.intervalS, slot, session);
  }

  private put(bucket: number, slot: number, session: number): void {
    const k = Math.max(this.nextBucket, bucket);
    const b = this.buckets.get(k);
    if (b) b.push(slot, session);
    else this.buckets.set(k, [slot, session]);
  }
}

export interface KeepaliveFleet {
  device(slot: number): KeepaliveDevice | null;
  /** The slot's current session generation (bumped on every connect). */
  session(slot: number): number;
}

/**
 * Plays every turn due by `nowUs` (one wheel per cohort): a stale turn is dropped; a held session
 * whose last PINGREQ got nothing back goes to `dead`; any other held session sends its PINGREQ.
 */
export function keepaliveDue(
  wheels: readonly KeepaliveWheel[],
  fleet: KeepaliveFleet,
  nowUs: number,
  dead: (slot: number, cohort: number) => void,
): void {
  wheels.forEach((wheel, cohort) => {
    wheel.sweep(nowUs, (slot, session, bucket) => {
      const c = fleet.device(slot);
      if (c === null || c.state !== 'connected' || fleet.session(slot) !== session) return;
      if (!Number.isNaN(c.pingSentUs)) {
        dead(slot, cohort);
        return;
      }
      c.ping();
      wheel.again(slot, session, bucket);
    });
  });
}
