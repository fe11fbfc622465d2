import { describe, expect, it } from 'vitest';
import { PAYLOAD_HEADER_BYTES, decodePayload, encodePayload, writeStamp } from '../../src/protocols/payload.js';

describe('message payload stamp', () => {
  it('round-trips device id, sequence and send time at any size ≥ the header', () => {
    const stamp = { deviceId: 123_456, seq: 4_000_000_000, sentUs: 86_400_000_123 };
    for (const size of [0, PAYLOAD_HEADER_BYTES, 256]) {
      const b = encodePayload(stamp, size);
      expect(b.length).toBe(Math.max(PAYLOAD_HEADER_BYTES, size));
      expect(decodePayload(b)).toEqual(stamp);
    }
  });

  it('returns null for payloads that are not herd stamps', () => {
    expect(decodePayload(Buffer.from('hello world, this is not herd'))).toBeNull();
    expect(decodePayload(Buffer.alloc(5))).toBeNull();
  });
});

describe('restamping one payload buffer', () => {
  it('writes the same bytes as encodePayload and leaves the padding alone', () => {
    const b = Buffer.alloc(64);
    for (const s of [
      { deviceId: 1, seq: 0, sentUs: 5 },
      { deviceId: 4_294_967_295, seq: 4_000_000_000, sentUs: 86_400_000_123 },
    ]) {
      writeStamp(b, s.deviceId, s.seq, s.sentUs);
      expect(b.equals(encodePayload(s, 64))).toBe(true);
      expect(decodePayload(b)).toEqual(s);
    }
  });
});
