/** A binary min-heap of (time, slot, kind) events in flat arrays: no object per pending reconnect. */
export const EV_RECONNECT = 0;
export const EV_OUTAGE = 1;
export const EV_PUBLISH = 3;
export const EV_REQUEST = 4;
export const EV_DOWNLINK = 5;

export class EventHeap {
  private at: number[] = [];
  private slot: number[] = [];
  private kind: number[] = [];

  get size(): number {
    return this.at.length;
  }

  peekAt(): number {
    return this.at.length === 0 ? Infinity : (this.at[0] as number);
  }

  push(atUs: number, slot: number, kind: number): void {
    this.at.push(atUs);
    this.slot.push(slot);
    this.kind.push(kind);
    let i = this.at.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if ((this.at[p] as number) <= atUs) break;
      this.swap(i, p);
      i = p;
    }
  }

  /** Removes the earliest event; returns [slot, kind]. Call only when size > 0. */
  pop(): [number, number] {
    const out: [number, number] = [this.slot[0] as number, this.kind[0] as number];
    const last = this.at.length - 1;
    this.swap(0, last);
    this.at.pop();
    this.slot.pop();
    this.kind.pop();
    let i = 0;
    const n = this.at.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && (this.at[l] as number) < (this.at[m] as number)) m = l;
      if (r < n && (this.at[r] as number) < (this.at[m] as number)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
    return out;
  }

  /** Counts and removes every event of a kind (e.g. reconnects cancelled by teardown). */
  drain(kind: number): number {
    let n = 0;
    const keep: [number, number, number][] = [];
    for (let i = 0; i < this.at.length; i++) {
      if (this.kind[i] === kind) n++;
      else keep.push([this.at[i] as number, this.slot[i] as number, this.kind[i] as number]);
    }
    this.at = [];
    this.slot = [];
    this.kind = [];
    for (const [a, s, k] of keep) this.push(a, s, k);
    return n;
  }

  private swap(i: number, j: number): void {
    const a = this.at[i] as number;
    this.at[i] = this.at[j] as number;
    this.at[j] = a;
    const s = this.slot[i] as number;
    this.slot[i] = this.slot[j] as number;
    this.slot[j] = s;
    const k = this.kind[i] as number;
    this.kind[i] = this.kind[j] as number;
    this.kind[j] = k;
  }
}
