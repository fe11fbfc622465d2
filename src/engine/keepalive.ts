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
 * The judgement waits for the loop to read the sockets (the turn is played in the timers phase, the
 * judgement in the immediate after the poll phase), so an answer that arrived while herd's worker
 * was busy counts; and a PINGREQ is judged only once it is K old (less half a second of a turn's own
 * lateness), so a sweep that catches up on several missed turns at once never judges the PINGREQ it
 * has just sent: a stall of herd's is never reported as the target's silence. The PINGREQs keep
 * their cadence (one every K, on the turns' buckets), as the broker's 1.5·K allowance expects.
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
/** A PINGREQ younger than K less this at its turn was sent late (a busy worker catching up): not judged yet. */
const AGE_SLACK_US = 500_000;
const GOLDEN = 0.618033988749895;

export class KeepaliveWheel {
  readonly keepaliveUs: number;
  /** The turn length in whole seconds; 0 = keepalive off. */
  readonly intervalS: number;
  /** bucket (second) → slot, session, slot, session… */
  private readonly buckets = new Map<number, number[]>();
  private nextBucket = 0;
  /** slot, session, bucket, PINGREQ µs… of turns that found a PINGREQ outstanding. */
  private suspects: number[] = [];

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

  /**
   * Whether a PINGREQ sent at `sentUs` is old enough at `nowUs` to be judged: K after it, less the
   * slack of a turn's own lateness. One sent late — a sweep catching up on missed turns sends it, and
   * its next turn may be in the same sweep — is not: `recheck` gives it a turn K after it was sent.
   */
  ripe(sentUs: number, nowUs: number): boolean {
    return nowUs - sentUs >= this.intervalS * SECOND_US - AGE_SLACK_US;
  }

  /** A turn for a PINGREQ sent at `sentUs` that was too young to judge: the first whole second K after it. */
  recheck(slot: number, session: number, sentUs: number): void {
    this.put(Math.ceil((sentUs + this.intervalS * SECOND_US) / SECOND_US), slot, session);
  }

  /** A turn found its PINGREQ unanswered: judged by `judge` once the loop has read the sockets. */
  suspect(slot: number, session: number, bucket: number, sentUs: number): void {
    this.suspects.push(slot, session, bucket, sentUs);
  }

  /** Hands every suspect to `fn` and forgets them. */
  judge(fn: (slot: number, session: number, bucket: number, sentUs: number) => void): void {
    const s = this.suspects;
    if (s.length === 0) return;
    this.suspects = [];
    for (let i = 0; i < s.length; i += 4)
      fn(s[i] as number, s[i + 1] as number, s[i + 2] as number, s[i + 3] as number);
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

function held(fleet: KeepaliveFleet, slot: number, session: number): KeepaliveDevice | null {
  const c = fleet.device(slot);
  return c === null || c.state !== 'connected' || fleet.session(slot) !== session ? null : c;
}

/**
 * Plays every turn due by `nowUs` (one wheel per cohort): a stale turn is dropped; a held session
 * with no PINGREQ outstanding sends one; one whose last PINGREQ is unanswered so far is a suspect,
 * for `keepaliveJudge` once the loop has read what reached the sockets (bytes that arrived while
 * herd's worker was busy still answer it).
 */
export function keepaliveDue(wheels: readonly KeepaliveWheel[], fleet: KeepaliveFleet, nowUs: number): void {
  for (const wheel of wheels)
    wheel.sweep(nowUs, (slot, session, bucket) => {
      const c = held(fleet, slot, session);
      if (c === null) return;
      if (Number.isNaN(c.pingSentUs)) {
        c.ping();
        wheel.again(slot, session, bucket);
      } else if (wheel.ripe(c.pingSentUs, nowUs)) wheel.suspect(slot, session, bucket, c.pingSentUs);
      else wheel.recheck(slot, session, c.pingSentUs);
    });
}

/**
 * Judges the suspects of `keepaliveDue`, in the loop turn after it read the sockets: a PINGREQ
 * still unanswered means the session is dead (`dead`); one answered meanwhile sends the next
 * PINGREQ and takes its next turn.
 */
export function keepaliveJudge(
  wheels: readonly KeepaliveWheel[],
  fleet: KeepaliveFleet,
  nowUs: number,
  dead: (slot: number, cohort: number) => void,
): void {
  wheels.forEach((wheel, cohort) => {
    wheel.judge((slot, session, bucket, sentUs) => {
      const c = held(fleet, slot, session);
      if (c === null) return;
      if (c.pingSentUs === sentUs) {
        dead(slot, cohort);
        return;
      }
      c.ping();
      wheel.again(slot, session, bucket);
    });
  });
}
