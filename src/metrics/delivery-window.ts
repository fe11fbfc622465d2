/**
 * One delivery stream's sliding window (pure rules): what one arrival, acknowledgement or resend
 * does to a stream — rings of bits indexed by seq mod window for the seqs received, acknowledged and
 * resent, and the counts kept as they move — and how another process's stream merges into one.
 * delivery-streams.ts holds the streams compact; StreamState is their plain form across processes.
 */
import {
  ACKED,
  ACKED_DELIVERED,
  ACKS,
  BASE,
  DELIVERED,
  DUPLICATED,
  DUPLICATED_BY_RESEND,
  HIGHEST,
  OUT_OF_ORDER,
  RECEIVED,
  RESENDS,
  RESENT,
  TOO_LATE,
  type DeliveryStreams,
} from './delivery-streams.js';

/** One stream's plain state; `words` hold a ring of bits (seq mod window) for seqs [base, base + window). */
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

export type Arrival = 'delivered' | 'duplicate' | 'outOfOrder' | 'tooLate';

/** A bit of a plain ring; an absent ring has none set. */
export function bitIn(words: readonly number[] | undefined, seq: number, window: number): boolean {
  if (words === undefined) return false;
  const i = seq % window;
  return (((words[i >> 5] ?? 0) >>> (i & 31)) & 1) === 1;
}

/** Moves the window so `seq` is its newest slot; each seq is cleared once, so this is O(1) amortised. */
export function slideTo(st: DeliveryStreams, s: number, seq: number): void {
  const window = st.window;
  const base = st.get(s, BASE);
  const newBase = seq - window + 1;
  if (newBase <= base) return;
  st.fullRings(s);
  if (newBase - base >= window) st.clearAll(s);
  else for (let q = base; q < newBase; q++) st.clearSeq(s, q);
  st.set(s, BASE, newBase);
}

/** The device resent `seq`; a later copy of it is then the device's duplicate. */
export function markResent(st: DeliveryStreams, s: number, seq: number): void {
  st.openStream(s);
  st.add(s, RESENT, 1);
  if (seq < st.get(s, BASE)) return;
  if (seq >= st.get(s, BASE) + st.window) slideTo(st, s, seq);
  st.setBit(s, RESENDS, seq);
}

export function ack(st: DeliveryStreams, s: number, seq: number): void {
  st.openStream(s);
  if (seq < st.get(s, BASE)) {
    st.add(s, ACKED, 1);
    return;
  }
  if (seq >= st.get(s, BASE) + st.window) slideTo(st, s, seq);
  if (st.bit(s, ACKS, seq)) return; // a second PUBACK for a resent message: acknowledged once
  st.setBit(s, ACKS, seq);
  st.add(s, ACKED, 1);
  if (st.bit(s, RECEIVED, seq)) st.add(s, ACKED_DELIVERED, 1);
}

export function arrive(st: DeliveryStreams, s: number, seq: number): Arrival {
  st.openStream(s);
  if (seq < st.get(s, BASE)) {
    st.add(s, TOO_LATE, 1);
    return 'tooLate';
  }
  if (seq >= st.get(s, BASE) + st.window) slideTo(st, s, seq);
  if (st.bit(s, RECEIVED, seq)) {
    st.add(s, DUPLICATED, 1);
    if (st.bit(s, RESENDS, seq)) st.add(s, DUPLICATED_BY_RESEND, 1);
    return 'duplicate';
  }
  st.setBit(s, RECEIVED, seq);
  st.add(s, DELIVERED, 1);
  if (st.bit(s, ACKS, seq)) st.add(s, ACKED_DELIVERED, 1);
  if (seq < st.get(s, HIGHEST)) {
    st.add(s, OUT_OF_ORDER, 1);
    return 'outOfOrder';
  }
  st.set(s, HIGHEST, seq);
  return 'delivered';
}

/** The plain form of a stream: every ring window / 32 words, every count present. */
export function toState(st: DeliveryStreams, s: number): StreamState {
  return {
    highest: st.get(s, HIGHEST),
    base: st.get(s, BASE),
    words: st.ringWordsOf(s, RECEIVED),
    delivered: st.get(s, DELIVERED),
    duplicated: st.get(s, DUPLICATED),
    outOfOrder: st.get(s, OUT_OF_ORDER),
    tooLate: st.get(s, TOO_LATE),
    acks: st.ringWordsOf(s, ACKS),
    acked: st.get(s, ACKED),
    ackedDelivered: st.get(s, ACKED_DELIVERED),
    resent: st.get(s, RESENT),
    duplicatedByResend: st.get(s, DUPLICATED_BY_RESEND),
    resends: st.ringWordsOf(s, RESENDS),
  };
}

/** Makes slot `s` (no stream yet) the stream `o`, exactly. */
export function loadStream(st: DeliveryStreams, s: number, o: StreamState): void {
  st.fullRings(s);
  st.set(s, HIGHEST, o.highest);
  st.set(s, BASE, o.base);
  st.loadRing(s, RECEIVED, o.words);
  st.loadRing(s, ACKS, o.acks);
  st.loadRing(s, RESENDS, o.resends);
  st.set(s, DELIVERED, o.delivered);
  st.set(s, DUPLICATED, o.duplicated);
  st.set(s, OUT_OF_ORDER, o.outOfOrder);
  st.set(s, TOO_LATE, o.tooLate);
  st.set(s, ACKED, o.acked ?? 0);
  st.set(s, ACKED_DELIVERED, o.ackedDelivered ?? 0);
  st.set(s, RESENT, o.resent ?? 0);
  st.set(s, DUPLICATED_BY_RESEND, o.duplicatedByResend ?? 0);
}

/** Merges another worker's stream `b` into stream `s`: windows united, a seq both received is a duplicate. */
export function mergeStream(st: DeliveryStreams, s: number, b: StreamState): void {
  const window = st.window;
  st.fullRings(s);
  const aBase = st.get(s, BASE);
  // Acks come from the publisher's worker, deliveries may come to another's: a seq acknowledged on
  // one side and delivered on the other (within both windows) is acknowledged and delivered.
  let cross = 0;
  for (let q = Math.max(aBase, b.base); q < Math.min(aBase, b.base) + window; q++) {
    const aAck = st.bit(s, ACKS, q);
    const bAck = bitIn(b.acks, q, window);
    const aDel = st.bit(s, RECEIVED, q);
    const bDel = bitIn(b.words, q, window);
    if ((aAck && !aDel && bDel && !bAck) || (bAck && !bDel && aDel && !aAck)) cross++;
  }
  st.add(s, ACKED, b.acked ?? 0);
  st.add(s, ACKED_DELIVERED, (b.ackedDelivered ?? 0) + cross);
  const top = Math.max(st.get(s, HIGHEST), b.highest);
  if (top >= aBase + window) slideTo(st, s, top);
  st.set(s, HIGHEST, top);
  st.add(s, DUPLICATED, b.duplicated);
  st.add(s, RESENT, b.resent ?? 0);
  st.add(s, DUPLICATED_BY_RESEND, b.duplicatedByResend ?? 0);
  const from = Math.max(b.base, st.get(s, BASE));
  for (let q = from; q < b.base + window; q++) if (bitIn(b.resends, q, window)) st.setBit(s, RESENDS, q);
  st.add(s, OUT_OF_ORDER, b.outOfOrder);
  st.add(s, TOO_LATE, b.tooLate);
  st.add(s, DELIVERED, b.delivered);
  for (let q = from; q < b.base + window; q++) {
    if (!bitIn(b.words, q, window)) continue;
    if (st.bit(s, RECEIVED, q)) {
      // Both workers received it: one delivery, one duplicate.
      st.add(s, DELIVERED, -1);
      st.add(s, DUPLICATED, 1);
    } else st.setBit(s, RECEIVED, q);
  }
  for (let q = from; q < b.base + window; q++) if (bitIn(b.acks, q, window)) st.setBit(s, ACKS, q);
}
