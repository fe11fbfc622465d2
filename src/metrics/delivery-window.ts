/**
 * One delivery stream's sliding window (pure): rings of bits indexed by seq mod window for the
 * seqs received, acknowledged and resent, and the counts kept as they move. delivery.ts owns the
 * streams; this module owns what one arrival, acknowledgement or resend does to one of them.
 */
/** One stream's state; `words` hold a ring of bits (seq mod window) for seqs [base, base + window). */
export interface StreamState {
  /** Highest seq received; -1 before any. */
  highest: number;
  base: number;
  words: number[];
  /** Acknowledged seqs, the same ring as `words` (absent in states from before issue 24). */
  acks?: number[];
  /** Seqs the target acknowledged (PUBACK / PUBCOMP), once each. */
  acked?: number;
  /** Of those, delivered too. */
  ackedDelivered?: number;
  /** Seqs the device resent after a reconnect (DUP set), the same ring (absent in states from before it). */
  resends?: number[];
  /** Resends the device made. */
  resent?: number;
  /** Duplicates of a seq the device had resent: the device's resend, not the cloud, made them. */
  duplicatedByResend?: number;
  delivered: number;
  duplicated: number;
  outOfOrder: number;
  tooLate: number;
}

export const newStream = (window: number): StreamState => ({
  highest: -1,
  base: 0,
  words: new Array<number>(window / 32).fill(0),
  delivered: 0,
  duplicated: 0,
  outOfOrder: 0,
  tooLate: 0,
  acks: new Array<number>(window / 32).fill(0),
  acked: 0,
  ackedDelivered: 0,
  // The resend ring is made by resendsOf() on a stream's first resend: most streams never resend,
  // and a telemetry fleet keeps one stream per device (window / 32 numbers each).
  resent: 0,
  duplicatedByResend: 0,
});

export type Arrival = 'delivered' | 'duplicate' | 'outOfOrder' | 'tooLate';

/** Bits live at seq mod window (a ring): moving the base only clears the seqs that leave. */
export function bit(s: StreamState, seq: number, window: number): boolean {
  const i = seq % window;
  return (((s.words[i >> 5] as number) >>> (i & 31)) & 1) === 1;
}

export function setBit(s: StreamState, seq: number, window: number): void {
  const i = seq % window;
  s.words[i >> 5] = ((s.words[i >> 5] as number) | (1 << (i & 31))) >>> 0;
}

export function bitIn(words: number[], seq: number, window: number): boolean {
  const i = seq % window;
  return (((words[i >> 5] as number) >>> (i & 31)) & 1) === 1;
}

/** The ack ring of a stream, created for states from before issue 24 (no acks recorded). */
export function acksOf(s: StreamState, window: number): number[] {
  if (s.acks === undefined) s.acks = new Array<number>(window / 32).fill(0);
  return s.acks;
}

/** The resend ring of a stream, created for states from before resends were recorded. */
export function resendsOf(s: StreamState, window: number): number[] {
  if (s.resends === undefined) s.resends = new Array<number>(window / 32).fill(0);
  return s.resends;
}

/** The device resent `seq`; a later copy of it is then the device's duplicate. */
export function markResent(s: StreamState, seq: number, window: number): void {
  s.resent = (s.resent ?? 0) + 1;
  if (seq < s.base) return;
  if (seq >= s.base + window) slideTo(s, seq, window);
  const r = resendsOf(s, window);
  const i = seq % window;
  r[i >> 5] = ((r[i >> 5] as number) | (1 << (i & 31))) >>> 0;
}

export function ack(s: StreamState, seq: number, window: number): void {
  const acks = acksOf(s, window);
  if (seq < s.base) {
    s.acked = (s.acked ?? 0) + 1;
    return;
  }
  if (seq >= s.base + window) slideTo(s, seq, window);
  const i = seq % window;
  if (bitIn(acks, seq, window)) return; // a second PUBACK for a resent message: acknowledged once
  acks[i >> 5] = ((acks[i >> 5] as number) | (1 << (i & 31))) >>> 0;
  s.acked = (s.acked ?? 0) + 1;
  if (bit(s, seq, window)) s.ackedDelivered = (s.ackedDelivered ?? 0) + 1;
}

/** Moves the window so `seq` is its newest slot; each seq is cleared once, so this is O(1) amortised. */
export function slideTo(s: StreamState, seq: number, window: number): void {
  const newBase = seq - window + 1;
  if (newBase <= s.base) return;
  if (newBase - s.base >= window) {
    s.words.fill(0);
    s.acks?.fill(0);
    s.resends?.fill(0);
  } else {
    for (let q = s.base; q < newBase; q++) {
      const i = q % window;
      s.words[i >> 5] = ((s.words[i >> 5] as number) & ~(1 << (i & 31))) >>> 0;
      if (s.acks !== undefined) s.acks[i >> 5] = ((s.acks[i >> 5] as number) & ~(1 << (i & 31))) >>> 0;
      if (s.resends !== undefined) s.resends[i >> 5] = ((s.resends[i >> 5] as number) & ~(1 << (i & 31))) >>> 0;
    }
  }
  s.base = newBase;
}

export function arrive(s: StreamState, seq: number, window: number): Arrival {
  if (seq < s.base) {
    s.tooLate++;
    return 'tooLate';
  }
  if (seq >= s.base + window) slideTo(s, seq, window);
  if (bit(s, seq, window)) {
    s.duplicated++;
    if (s.resends !== undefined && bitIn(s.resends, seq, window))
      s.duplicatedByResend = (s.duplicatedByResend ?? 0) + 1;
    return 'duplicate';
  }
  setBit(s, seq, window);
  s.delivered++;
  if (s.acks !== undefined && bitIn(s.acks, seq, window)) s.ackedDelivered = (s.ackedDelivered ?? 0) + 1;
  if (seq < s.highest) {
    s.outOfOrder++;
    return 'outOfOrder';
  }
  s.highest = seq;
  return 'delivered';
}

export function mergeStreams(a: StreamState, b: StreamState, window: number): StreamState {
  const out: StreamState = {
    ...a,
    words: [...a.words],
    acks: [...acksOf(a, window)],
    resends: [...resendsOf(a, window)],
  };
  const bAcks = acksOf(b, window);
  // Acks come from the publisher's worker, deliveries may come to another's: a seq acknowledged on
  // one side and delivered on the other (within both windows) is acknowledged and delivered.
  let cross = 0;
  for (let q = Math.max(a.base, b.base); q < Math.min(a.base, b.base) + window; q++) {
    const aAck = bitIn(out.acks as number[], q, window);
    const bAck = bitIn(bAcks, q, window);
    const aDel = bit(a, q, window);
    const bDel = bit(b, q, window);
    if ((aAck && !aDel && bDel && !bAck) || (bAck && !bDel && aDel && !aAck)) cross++;
  }
  out.acked = (a.acked ?? 0) + (b.acked ?? 0);
  out.ackedDelivered = (a.ackedDelivered ?? 0) + (b.ackedDelivered ?? 0) + cross;
  const top = Math.max(a.highest, b.highest);
  if (top >= out.base + window) slideTo(out, top, window);
  out.highest = top;
  out.duplicated += b.duplicated;
  out.resent = (a.resent ?? 0) + (b.resent ?? 0);
  out.duplicatedByResend = (a.duplicatedByResend ?? 0) + (b.duplicatedByResend ?? 0);
  const bResends = resendsOf(b, window);
  for (let q = Math.max(b.base, out.base); q < b.base + window; q++) {
    if (!bitIn(bResends, q, window)) continue;
    const i = q % window;
    const r = out.resends as number[];
    r[i >> 5] = ((r[i >> 5] as number) | (1 << (i & 31))) >>> 0;
  }
  out.outOfOrder += b.outOfOrder;
  out.tooLate += b.tooLate;
  out.delivered += b.delivered;
  for (let q = Math.max(b.base, out.base); q < b.base + window; q++) {
    if (!bit(b, q, window)) continue;
    if (bit(out, q, window)) {
      // Both workers received it: one delivery, one duplicate.
      out.delivered--;
      out.duplicated++;
    } else setBit(out, q, window);
  }
  for (let q = Math.max(b.base, out.base); q < b.base + window; q++) {
    if (!bitIn(bAcks, q, window)) continue;
    const i = q % window;
    const acks = out.acks as number[];
    acks[i >> 5] = ((acks[i >> 5] as number) | (1 << (i & 31))) >>> 0;
  }
  return out;
}
