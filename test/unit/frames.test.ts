import { describe, expect, it } from 'vitest';
import { FrameSplitter, type FrameError } from '../../src/protocols/mqtt/frames.js';

function collect(
  chunks: Buffer[],
  max = 1024,
): { packets: [number, string][]; errors: FrameError[]; buffered: number } {
  const s = new FrameSplitter(max);
  const packets: [number, string][] = [];
  const errors: FrameError[] = [];
  const sink = {
    onPacket: (b: number, body: Buffer) => packets.push([b, body.toString('hex')]),
    onFrameError: (e: FrameError) => errors.push(e),
  };
  for (const c of chunks) s.push(c, sink);
  return { packets, errors, buffered: s.bufferedBytes };
}

describe('MQTT frame splitting', () => {
  it('splits several packets in one chunk', () => {
    expect(collect([Buffer.from('20020000d000', 'hex')]).packets).toEqual([
      [0x20, '0000'],
      [0xd0, ''],
    ]);
  });

  it('joins a packet split across chunks at any byte', () => {
    const bytes = Buffer.from('30820101' + 'ab'.repeat(129), 'hex'); // PUBLISH, remaining length 130
    for (let cut = 1; cut < bytes.length; cut += 17) {
      const r = collect([bytes.subarray(0, cut), bytes.subarray(cut)]);
      expect(r.packets).toHaveLength(1);
      expect(r.packets[0]?.[1].length).toBe(2 * 130);
      expect(r.buffered).toBe(0);
    }
  });

  it('refuses a packet larger than the limit before buffering it', () => {
    const r = collect([Buffer.from('30ffff7f', 'hex')], 1024); // claims ~268 MB
    expect(r.errors).toEqual(['MQTT_PACKET_TOO_LARGE']);
    expect(r.buffered).toBe(0);
  });

  it('refuses a length field longer than four bytes', () => {
    expect(collect([Buffer.from('30ffffffff01', 'hex')]).errors).toEqual(['MQTT_MALFORMED_LENGTH']);
  });
});
