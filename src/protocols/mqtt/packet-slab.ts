/**
 * Each device's CONNECT, kept by slot (the device's dense row in its worker) in one growing byte
 * slab: a device sends the same CONNECT on every attempt, so it is built once — before the run
 * when the worker prebuilds its devices (engine/device-table.ts prebuildOwn), as a C load client
 * builds its packets before it starts the clock — and every attempt takes a view of it.
 * ~8 bytes per slot beside the packet's own bytes; no JavaScript object per device.
 */
export class PacketSlab {
  private bytes = Buffer.allocUnsafe(0);
  private used = 0;
  /** Per slot: offset in `bytes` and length; length 0 = not built yet. */
  private offsets = new Uint32Array(0);
  private lengths = new Uint32Array(0);

  /** The slot's packet, or null when it has none yet. */
  get(slot: number): Buffer | null {
    const n = slot < this.lengths.length ? (this.lengths[slot] as number) : 0;
    if (n === 0) return null;
    const at = this.offsets[slot] as number;
    return this.bytes.subarray(at, at + n);
  }

  /** Keeps `packet` (not empty) as the slot's and returns its view in the slab. */
  put(slot: number, packet: Buffer): Buffer {
    if (slot >= this.lengths.length) this.widen(Math.max(slot + 1, this.lengths.length * 2, 64));
    if (this.used + packet.length > this.bytes.length) {
      // Views already handed out keep the old slab alive until their attempts are done with it.
      const grown = Buffer.allocUnsafe(Math.max(this.used + packet.length, this.bytes.length * 2, 4096));
      this.bytes.copy(grown, 0, 0, this.used);
      this.bytes = grown;
    }
    packet.copy(this.bytes, this.used);
    this.offsets[slot] = this.used;
    this.lengths[slot] = packet.length;
    this.used += packet.length;
    return this.bytes.subarray(this.used - packet.length, this.used);
  }

  private widen(cap: number): void {
    const offsets = new Uint32Array(cap);
    const lengths = new Uint32Array(cap);
    offsets.set(this.offsets);
    lengths.set(this.lengths);
    this.offsets = offsets;
    this.lengths = lengths;
  }
}
