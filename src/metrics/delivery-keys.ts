/**
 * Stream keys → slots 0, 1, 2 … in the order first seen (issue 26). A stream's key is its
 * publisher's device id in decimal almost always, so such a key is held as a number: an open-
 * addressing table of slots (Int32Array, at most half full, linear probing) with each slot's id in
 * another, no string and no Map entry per stream. Any other key (not a canonical decimal below
 * 10⁹: a webhook's, a test's) goes through a Map. keyOf gives every key back exactly as it was given.
 */

const NOT_AN_ID = -1;
/** Ids below this fit an Int32Array; longer keys go through the Map. */
const MAX_ID_DIGITS = 9;
/** The first id with more than MAX_ID_DIGITS digits. */
const ID_LIMIT = 1e9;

/** Whether a device id is held as a number (as its decimal key would be): an integer 0 ≤ id < 10⁹. */
export function isHeldId(id: number): boolean {
  return Number.isInteger(id) && id >= 0 && id < ID_LIMIT;
}

/** The id a key spells (canonical decimal: digits, no leading zero, ≤ 9 of them), else NOT_AN_ID. */
export function idOfKey(key: string): number {
  const n = key.length;
  if (n === 0 || n > MAX_ID_DIGITS || (n > 1 && key.charCodeAt(0) === 48)) return NOT_AN_ID;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const d = key.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return NOT_AN_ID;
    v = v * 10 + d;
  }
  return v;
}

export class StreamKeys {
  private count = 0;
  /** Each slot's id; NOT_AN_ID for a slot whose key went through the Map. */
  private ids = new Int32Array(64);
  /** Open addressing: slot + 1 at the id's hash position or after it; 0 is empty. */
  private table = new Int32Array(128);
  private readonly named = new Map<string, number>();
  private readonly nameOf = new Map<number, string>();

  get size(): number {
    return this.count;
  }

  /** The key's slot, or -1 if it has none yet. */
  find(key: string): number {
    const id = idOfKey(key);
    return id === NOT_AN_ID ? (this.named.get(key) ?? -1) : this.findId(id);
  }

  /**
   * The slot of the key String(id), or -1 if it has none yet, without making that string: `id`
   * must be held as a number (isHeldId).
   */
  findId(id: number): number {
    const mask = this.table.length - 1;
    for (let h = hash(id, mask); ; h = (h + 1) & mask) {
      const s = this.table[h] as number;
      if (s === 0) return -1;
      if (this.ids[s - 1] === id) return s - 1;
    }
  }

  /** Gives the key the next slot (it must have none). */
  add(key: string): number {
    const id = idOfKey(key);
    if (id !== NOT_AN_ID) return this.addId(id);
    const slot = this.nextSlot(NOT_AN_ID);
    this.named.set(key, slot);
    this.nameOf.set(slot, key);
    return slot;
  }

  /** Gives the key String(id) the next slot (it must have none; `id` held as a number: isHeldId). */
  addId(id: number): number {
    const slot = this.nextSlot(id);
    if (2 * (slot + 1) > this.table.length) this.rehash();
    this.place(id, slot);
    return slot;
  }

  private nextSlot(id: number): number {
    const slot = this.count++;
    if (slot === this.ids.length) {
      const ids = new Int32Array(this.ids.length * 2);
      ids.set(this.ids);
      this.ids = ids;
    }
    this.ids[slot] = id;
    return slot;
  }

  keyOf(slot: number): string {
    const id = this.ids[slot] as number;
    return id === NOT_AN_ID ? (this.nameOf.get(slot) as string) : String(id);
  }

  private place(id: number, slot: number): void {
    const mask = this.table.length - 1;
    let h = hash(id, mask);
    while ((this.table[h] as number) !== 0) h = (h + 1) & mask;
    this.table[h] = slot + 1;
  }

  private rehash(): void {
    this.table = new Int32Array(this.table.length * 2);
    for (let s = 0; s < this.count - 1; s++) {
      const id = this.ids[s] as number;
      if (id !== NOT_AN_ID) this.place(id, s);
    }
  }
}

/** Fibonacci hashing (the product's top bits): consecutive ids land far apart. */
const hash = (id: number, mask: number): number => Math.imul(id, 0x9e3779b1) >>> Math.clz32(mask);
