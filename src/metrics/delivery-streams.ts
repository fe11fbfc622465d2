/**
 * The delivery streams of one tracker, held compact (issue 26): a telemetry fleet keeps one stream
 * per device, so a stream is a slot (delivery-keys.ts) — its counts in a row of a Float64Array, the
 * rare ones in a row of another made when one of them first moves, its received and
 * acknowledged rings in one block of a shared Uint32Array slab — and not an object holding arrays.
 * A ring is window / 32 words once the window has slid; until then a stream's block has only the
 * words its highest bit needs (1, 2, 4 … words, a size class each, freed blocks reused), so a
 * device that has published 30 messages costs 2 words per ring, not window / 32. The rare resend
 * ring is a Uint32Array of its own, made on a stream's first resend.
 *
 * This module knows slots, fields and bits; delivery-window.ts holds the accounting rules and
 * StreamState, the plain form that crosses processes, which toState / load convert exactly.
 */
import { isHeldId, StreamKeys } from './delivery-keys.js';

/** A stream's key: a string, or a device id standing for its decimal string. */
export type StreamKey = string | number;

/**
 * One stream's counts. The first HOT_FIELDS are in every stream's row; the rest are most often
 * never anything but their default (no duplicate, no resend, nothing dropped) and get a row of
 * their own only once they are. SENT, DROPPED and QUEUED are NaN until recorded.
 */
export const HIGHEST = 0;
export const BASE = 1;
export const DELIVERED = 2;
export const ACKED = 3;
export const ACKED_DELIVERED = 4;
export const SENT = 5;
export const DUPLICATED = 6;
export const OUT_OF_ORDER = 7;
export const TOO_LATE = 8;
export const RESENT = 9;
export const DUPLICATED_BY_RESEND = 10;
export const DROPPED = 11;
export const QUEUED = 12;
const HOT_FIELDS = 6;
const HOT_DEFAULTS = [-1, 0, 0, 0, 0, NaN];
const RARE_DEFAULTS = [0, 0, 0, 0, 0, NaN, NaN];
const RARE_FIELDS = RARE_DEFAULTS.length;
const NO_ROW = -1;

/** Which ring of a stream: seqs received, acknowledged, resent. */
export const RECEIVED = 0;
export const ACKS = 1;
export const RESENDS = 2;
export type Ring = typeof RECEIVED | typeof ACKS | typeof RESENDS;

const NO_STREAM = -1;

export class DeliveryStreams {
  readonly window: number;
  /** Words in a full ring. */
  readonly ringWords: number;
  private readonly keys = new StreamKeys();
  private rows = new Float64Array(HOT_FIELDS * 64);
  /** Each slot's row of rare counts in `rareRows`; NO_ROW while they all have their defaults. */
  private rareOf = new Int32Array(64).fill(NO_ROW);
  private rareRows = new Float64Array(RARE_FIELDS * 16);
  private rareCount = 0;
  /** Size class of each slot's block; NO_STREAM while only sent / dropped / queued counts exist. */
  private classOf = new Int8Array(64).fill(NO_STREAM);
  /** Offset of each slot's block in its class's slab: received ring, then acknowledged ring. */
  private blockAt = new Uint32Array(64);
  /** Words per ring in each size class: 1, 2, 4 … up to ringWords, which is the last. */
  private readonly classWords: number[] = [];
  private readonly slabs: Uint32Array[] = [];
  private readonly slabUsed: number[] = [];
  private readonly freeBlocks: number[][] = [];
  private readonly resendRings = new Map<number, Uint32Array>();

  constructor(window: number) {
    this.window = window;
    this.ringWords = window / 32;
    for (let w = 1; w < this.ringWords; w *= 2) this.classWords.push(w);
    this.classWords.push(this.ringWords);
    for (const w of this.classWords) {
      this.slabs.push(new Uint32Array(2 * w * 16));
      this.slabUsed.push(0);
      this.freeBlocks.push([]);
    }
  }

  /**
   * The slot of `key`, made (no counts, no stream yet) on first use. A number is a device id: the
   * same stream as its decimal string, found without making that string.
   */
  slot(key: StreamKey): number {
    if (typeof key === 'number' && !isHeldId(key)) key = String(key);
    const found = typeof key === 'number' ? this.keys.findId(key) : this.keys.find(key);
    if (found !== -1) return found;
    return this.made(typeof key === 'number' ? this.keys.addId(key) : this.keys.add(key));
  }

  private made(n: number): number {
    if (n === this.classOf.length) this.growSlots();
    this.rows.set(HOT_DEFAULTS, n * HOT_FIELDS);
    return n;
  }

  /** Every key with its slot, in the order they were first used. */
  *entries(): IterableIterator<[string, number]> {
    for (let s = 0; s < this.keys.size; s++) yield [this.keys.keyOf(s), s];
  }

  get(slot: number, field: number): number {
    if (field < HOT_FIELDS) return this.rows[slot * HOT_FIELDS + field] as number;
    const r = this.rareOf[slot] as number;
    const f = field - HOT_FIELDS;
    return r === NO_ROW ? (RARE_DEFAULTS[f] as number) : (this.rareRows[r * RARE_FIELDS + f] as number);
  }

  set(slot: number, field: number, value: number): void {
    if (field < HOT_FIELDS) {
      this.rows[slot * HOT_FIELDS + field] = value;
      return;
    }
    const f = field - HOT_FIELDS;
    let r = this.rareOf[slot] as number;
    if (r === NO_ROW) {
      if (Object.is(value, RARE_DEFAULTS[f])) return;
      r = this.newRareRow(slot);
    }
    this.rareRows[r * RARE_FIELDS + f] = value;
  }

  /** Adds to a count; a NaN (not recorded yet) count starts at 0. */
  add(slot: number, field: number, n: number): void {
    const v = this.get(slot, field);
    this.set(slot, field, (Number.isNaN(v) ? 0 : v) + n);
  }

  hasStream(slot: number): boolean {
    return (this.classOf[slot] as number) !== NO_STREAM;
  }

  /** The slot gets its rings (the smallest block) if it had none: it is a stream from now on. */
  openStream(slot: number): void {
    if (!this.hasStream(slot)) this.moveBlock(slot, 0);
  }

  /** Words the slot holds per ring (received, acknowledged): 0 before it is a stream. */
  wordsHeld(slot: number): number {
    const k = this.classOf[slot] as number;
    return k === NO_STREAM ? 0 : (this.classWords[k] as number);
  }

  hasResends(slot: number): boolean {
    return this.resendRings.has(slot);
  }

  /** Bits live at seq mod window (a ring); a bit past a block's words was never set. */
  bit(slot: number, ring: Ring, seq: number): boolean {
    const i = seq % this.window;
    const w = i >> 5;
    if (ring === RESENDS) {
      const r = this.resendRings.get(slot);
      return r !== undefined && (((r[w] as number) >>> (i & 31)) & 1) === 1;
    }
    const k = this.classOf[slot] as number;
    if (k === NO_STREAM) return false;
    const cap = this.classWords[k] as number;
    if (w >= cap) return false;
    const slab = this.slabs[k] as Uint32Array;
    return (((slab[(this.blockAt[slot] as number) + ring * cap + w] as number) >>> (i & 31)) & 1) === 1;
  }

  setBit(slot: number, ring: Ring, seq: number): void {
    const i = seq % this.window;
    const w = i >> 5;
    if (ring === RESENDS) {
      let r = this.resendRings.get(slot);
      if (r === undefined) this.resendRings.set(slot, (r = new Uint32Array(this.ringWords)));
      r[w] = (r[w] as number) | (1 << (i & 31));
      return;
    }
    this.openStream(slot);
    let k = this.classOf[slot] as number;
    if (w >= (this.classWords[k] as number)) {
      while (w >= (this.classWords[k] as number)) k++;
      this.moveBlock(slot, k);
    }
    const cap = this.classWords[k] as number;
    const slab = this.slabs[k] as Uint32Array;
    const at = (this.blockAt[slot] as number) + ring * cap + w;
    slab[at] = (slab[at] as number) | (1 << (i & 31));
  }

  /** Clears the bit of `seq` in every ring of the slot (the seq leaves the window). */
  clearSeq(slot: number, seq: number): void {
    const i = seq % this.window;
    const w = i >> 5;
    const mask = ~(1 << (i & 31));
    const k = this.classOf[slot] as number;
    if (k !== NO_STREAM) {
      const cap = this.classWords[k] as number;
      if (w < cap) {
        const slab = this.slabs[k] as Uint32Array;
        const at = (this.blockAt[slot] as number) + w;
        slab[at] = (slab[at] as number) & mask;
        slab[at + cap] = (slab[at + cap] as number) & mask;
      }
    }
    const r = this.resendRings.get(slot);
    if (r !== undefined) r[w] = (r[w] as number) & mask;
  }

  /** Clears every ring of the slot. */
  clearAll(slot: number): void {
    const k = this.classOf[slot] as number;
    if (k !== NO_STREAM) {
      const at = this.blockAt[slot] as number;
      (this.slabs[k] as Uint32Array).fill(0, at, at + 2 * (this.classWords[k] as number));
    }
    this.resendRings.get(slot)?.fill(0);
  }

  /** Gives the slot full rings: once the window slides, any seq's bit may be anywhere in them. */
  fullRings(slot: number): void {
    this.openStream(slot);
    const last = this.classWords.length - 1;
    if ((this.classOf[slot] as number) !== last) this.moveBlock(slot, last);
  }

  /** One ring of the slot as window / 32 plain numbers (zeros past its block). */
  ringWordsOf(slot: number, ring: Ring): number[] {
    const out = new Array<number>(this.ringWords).fill(0);
    if (ring === RESENDS) {
      const r = this.resendRings.get(slot);
      if (r !== undefined) for (let w = 0; w < this.ringWords; w++) out[w] = r[w] as number;
      return out;
    }
    const k = this.classOf[slot] as number;
    if (k === NO_STREAM) return out;
    const cap = this.classWords[k] as number;
    const slab = this.slabs[k] as Uint32Array;
    const at = (this.blockAt[slot] as number) + ring * cap;
    for (let w = 0; w < cap; w++) out[w] = slab[at + w] as number;
    return out;
  }

  /** Writes a ring's plain words (a state from another process) into the slot's full rings. */
  loadRing(slot: number, ring: Ring, words: readonly number[] | undefined): void {
    if (words === undefined) return;
    if (ring === RESENDS) {
      if (!words.some((x) => x !== 0)) return;
      const r = new Uint32Array(this.ringWords);
      for (let w = 0; w < this.ringWords; w++) r[w] = words[w] ?? 0;
      this.resendRings.set(slot, r);
      return;
    }
    this.fullRings(slot);
    const slab = this.slabs[this.classWords.length - 1] as Uint32Array;
    const at = (this.blockAt[slot] as number) + ring * this.ringWords;
    for (let w = 0; w < this.ringWords; w++) slab[at + w] = words[w] ?? 0;
  }

  /** Moves the slot's rings into a block of class `k` (zeroed past what they held), freeing the old one. */
  private moveBlock(slot: number, k: number): void {
    const cap = this.classWords[k] as number;
    const free = this.freeBlocks[k] as number[];
    let at = free.pop();
    if (at === undefined) {
      at = this.slabUsed[k] as number;
      this.slabUsed[k] = at + 2 * cap;
      const slab = this.slabs[k] as Uint32Array;
      if (at + 2 * cap > slab.length) {
        const bigger = new Uint32Array(slab.length * 2);
        bigger.set(slab);
        this.slabs[k] = bigger;
      }
    }
    const slab = this.slabs[k] as Uint32Array;
    slab.fill(0, at, at + 2 * cap);
    const old = this.classOf[slot] as number;
    if (old !== NO_STREAM) {
      const oldCap = this.classWords[old] as number;
      const from = this.blockAt[slot] as number;
      const oldSlab = this.slabs[old] as Uint32Array;
      slab.set(oldSlab.subarray(from, from + oldCap), at);
      slab.set(oldSlab.subarray(from + oldCap, from + 2 * oldCap), at + cap);
      (this.freeBlocks[old] as number[]).push(from);
    }
    this.classOf[slot] = k;
    this.blockAt[slot] = at;
  }

  private newRareRow(slot: number): number {
    const r = this.rareCount++;
    if ((r + 1) * RARE_FIELDS > this.rareRows.length) {
      const rows = new Float64Array(this.rareRows.length * 2);
      rows.set(this.rareRows);
      this.rareRows = rows;
    }
    this.rareRows.set(RARE_DEFAULTS, r * RARE_FIELDS);
    this.rareOf[slot] = r;
    return r;
  }

  private growSlots(): void {
    const n = this.classOf.length * 2;
    const rows = new Float64Array(n * HOT_FIELDS);
    rows.set(this.rows);
    this.rows = rows;
    const rareOf = new Int32Array(n).fill(NO_ROW);
    rareOf.set(this.rareOf);
    this.rareOf = rareOf;
    const classOf = new Int8Array(n).fill(NO_STREAM);
    classOf.set(this.classOf);
    this.classOf = classOf;
    const blockAt = new Uint32Array(n);
    blockAt.set(this.blockAt);
    this.blockAt = blockAt;
  }
}
