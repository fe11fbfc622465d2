import * as mqtt from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { decodeFrame, parserIsIdle } from '../../src/protocols/mqtt/decode.js';
import { FrameSplitter } from '../../src/protocols/mqtt/frames.js';

const publish = (version: 4 | 5, topic: string, id: number): Buffer =>
  mqtt.generate(
    { cmd: 'publish', topic, payload: Buffer.from(topic), qos: 1, messageId: id, dup: false, retain: false },
    { protocolVersion: version },
  );

describe('shared mqtt-packet parser', () => {
  it('holds no state between whole frames, across versions and interleaved connections', () => {
    const frames = [
      publish(4, 'a', 1),
      publish(5, 'b', 2),
      mqtt.generate({ cmd: 'suback', messageId: 3, granted: [1] }, { protocolVersion: 4 }),
      publish(4, 'c', 4),
    ];
    const versions = [4, 5, 4, 4] as const;
    frames.forEach((f, i) => {
      const d = decodeFrame(f, versions[i] as 4 | 5);
      expect(d.error).toBeNull();
      expect(parserIsIdle(4)).toBe(true);
      expect(parserIsIdle(5)).toBe(true);
    });
    expect((decodeFrame(frames[3] as Buffer, 4).packet as mqtt.IPublishPacket).topic).toBe('c');
  });

  it('a CONNECT of another version leaves the parser at its own (the warm-up listener reads CONNECTs)', () => {
    const connect = (protocolVersion: 4 | 5): Buffer =>
      mqtt.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion, clientId: 'c', clean: true, keepalive: 0 });
    // mqtt-packet takes a CONNECT's settings as its own: a v5 CONNECT through the 3.1.1 parser
    // would have the next 3.1.1 SUBACK read as MQTT 5 (malformed), for every connection.
    expect((decodeFrame(connect(5), 4).packet as mqtt.IConnectPacket).protocolVersion).toBe(5);
    expect(parserIsIdle(4)).toBe(true);
    const suback = mqtt.generate({ cmd: 'suback', messageId: 7, granted: [1] }, { protocolVersion: 4 });
    expect(decodeFrame(suback, 4).packet).toMatchObject({ cmd: 'suback', messageId: 7, granted: [1] });
    expect((decodeFrame(connect(4), 5).packet as mqtt.IConnectPacket).protocolVersion).toBe(4);
    expect(parserIsIdle(5)).toBe(true);
    const v5 = publish(5, 'five', 8);
    expect((decodeFrame(v5, 5).packet as mqtt.IPublishPacket).topic).toBe('five');
  });

  it('a malformed frame is an error and leaves the parser clean for the next one', () => {
    const bad = Buffer.from([0x36, 0x02, 0x00, 0x05]); // QoS 3 bits set, truncated topic
    expect(decodeFrame(bad, 4).error).not.toBeNull();
    expect(parserIsIdle(4)).toBe(true);
    const short = Buffer.from([0x30, 0x05, 0x00, 0x09, 0x61, 0x62, 0x63]); // topic longer than the frame
    expect(decodeFrame(short, 4).error).not.toBeNull();
    expect(parserIsIdle(4)).toBe(true);
    const ok = decodeFrame(publish(4, 'after', 9), 4);
    expect((ok.packet as mqtt.IPublishPacket).topic).toBe('after');
  });

  it('FrameSplitter hands over whole frames however the bytes are chunked', () => {
    const stream = Buffer.concat([publish(4, 'one', 1), publish(4, 'two', 2), publish(4, 'three', 3)]);
    for (const step of [1, 2, 7, stream.length]) {
      const topics: string[] = [];
      const s = new FrameSplitter(1024);
      const sink = {
        onPacket: (_fb: number, _body: Buffer, frame: Buffer) =>
          topics.push((decodeFrame(frame, 4).packet as mqtt.IPublishPacket).topic),
        onFrameError: () => topics.push('error'),
      };
      for (let i = 0; i < stream.length; i += step) s.push(stream.subarray(i, i + step), sink);
      expect(topics).toEqual(['one', 'two', 'three']);
      expect(s.bufferedBytes).toBe(0);
    }
  });

  it('FrameSplitter stops for good after a frame error', () => {
    const errors: string[] = [];
    const s = new FrameSplitter(16);
    const sink = { onPacket: () => errors.push('packet'), onFrameError: (c: string) => errors.push(c) };
    s.push(Buffer.from([0x30, 0x40]), sink);
    s.push(publish(4, 'x', 1), sink);
    expect(errors).toEqual(['MQTT_PACKET_TOO_LARGE']);
    expect(s.bufferedBytes).toBe(0);
  });
});
