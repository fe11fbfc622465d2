/**
 * The payload every herd message carries so delivery is counted end to end: a fixed 20-byte
 * header (magic "HRD1", publisher device id, sequence, send time in µs since the run origin),
 * padded to the requested size. Binary so any size ≥ 20 bytes works and parsing cannot allocate.
 */
export const PAYLOAD_HEADER_BYTES = 20;
const MAGIC = 0x48524431; // "HRD1"

export interface PayloadStamp {
  deviceId: number;
  seq: number;
  /** µs since the run origin (the same origin in every worker process). */
  sentUs: number;
}

/** Encodes a stamp into a payload of `sizeBytes` (at least the header; padding is zeros). */
export function encodePayload(s: PayloadStamp, sizeBytes = PAYLOAD_HEADER_BYTES): Buffer {
  const b = Buffer.alloc(Math.max(PAYLOAD_HEADER_BYTES, sizeBytes));
  writeStamp(b, s.deviceId, s.seq, s.sentUs);
  return b;
}

/**
 * Writes a stamp's header over the first PAYLOAD_HEADER_BYTES of `b` and leaves the rest as it is:
 * a caller that publishes many messages restamps one zero-padded buffer instead of allocating one each.
 */
export function writeStamp(b: Buffer, deviceId: number, seq: number, sentUs: number): void {
  b.writeUInt32BE(MAGIC, 0);
  b.writeUInt32BE(deviceId >>> 0, 4);
  b.writeUInt32BE(seq >>> 0, 8);
  // µs since origin fit in 53 bits; stored as a float64 so no precision is lost below 2^53.
  b.writeDoubleBE(sentUs, 12);
}

/** Decodes a stamp, or null when the payload is not one of herd's (counted as foreign by callers). */
export function decodePayload(b: Buffer): PayloadStamp | null {
  if (b.length < PAYLOAD_HEADER_BYTES || b.readUInt32BE(0) !== MAGIC) return null;
  const sentUs = b.readDoubleBE(12);
  if (!Number.isFinite(sentUs)) return null;
  return { deviceId: b.readUInt32BE(4), seq: b.readUInt32BE(8), sentUs };
}
