import { pipeline, Readable, Writable } from 'node:stream';
import * as mqtt from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { skipEmptyQueuePipeline } from '../../src/target/empty-queue.js';
import { connectFrameLength, NEED_MORE, NOT_A_CONNECT, parseConnect } from '../../src/target/first-packet.js';

const connect = (clientId: string, protocolVersion: 4 | 5): Buffer =>
  mqtt.generate({ cmd: 'connect', clientId, protocolVersion, clean: true, keepalive: 30 });

describe('the front layer frames the first packet itself', () => {
  it('knows the whole length once the fixed header is there, and refuses any other first packet at once', () => {
    const c = connect('dev-1', 4);
    // 0x10, remaining length 17 (10 bytes of variable header + 2 + 5 of client id): 19 bytes in all.
    expect(c.length).toBe(19);
    expect(connectFrameLength(c.subarray(0, 0))).toBe(NEED_MORE);
    expect(connectFrameLength(c.subarray(0, 1))).toBe(NEED_MORE);
    expect(connectFrameLength(c.subarray(0, 2))).toBe(19);
    // A two-byte remaining length: 0x80 0x01 = 128.
    expect(connectFrameLength(Buffer.from([0x10, 0x80]))).toBe(NEED_MORE);
    expect(connectFrameLength(Buffer.from([0x10, 0x80, 0x01]))).toBe(3 + 128);
    expect(connectFrameLength(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]))).toBe(5 + 268_435_455);
    expect(connectFrameLength(Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x01]))).toBe(NOT_A_CONNECT);
    expect(connectFrameLength(Buffer.from([0x30, 0x02]))).toBe(NOT_A_CONNECT); // PUBLISH
    expect(connectFrameLength(Buffer.from([0xc0, 0x00]))).toBe(NOT_A_CONNECT); // PINGREQ
  });

  it('parses CONNECTs of both versions one after another with its shared parser, and recovers from a bad one', () => {
    expect(parseConnect(connect('a', 5))).toMatchObject({ cmd: 'connect', clientId: 'a', protocolVersion: 5 });
    expect(parseConnect(connect('b', 4))).toMatchObject({ cmd: 'connect', clientId: 'b', protocolVersion: 4 });
    const bad = Buffer.from(connect('c', 4));
    bad[8] = 9; // protocol level 9
    expect(parseConnect(bad)).toBeNull();
    expect(parseConnect(connect('d', 4))).toMatchObject({ cmd: 'connect', clientId: 'd', protocolVersion: 4 });
  });
});

describe("aedes's offline-queue step for a client that never had anything queued", () => {
  it('answers an empty queue at once for such ids, and the stored stream for ids that had messages', async () => {
    const calls: string[] = [];
    const store = {
      outgoingStream: (client: { id: string }) => {
        calls.push(client.id);
        return Readable.from([{ id: client.id }]);
      },
      outgoingEnqueue: (_sub: { clientId: string }) => undefined,
      outgoingEnqueueCombi: (_subs: Array<{ clientId: string }>) => undefined,
    };
    skipEmptyQueuePipeline(store);
    store.outgoingEnqueue({ clientId: 'p1' });
    store.outgoingEnqueueCombi([{ clientId: 'p2' }]);
    const drain = (id: string): Promise<string[]> =>
      new Promise((resolve, reject) => {
        const seen: string[] = [];
        const sink = new Writable({
          objectMode: true,
          write(chunk: { id: string }, _enc, next) {
            seen.push(chunk.id);
            next();
          },
        });
        pipeline(store.outgoingStream({ id }) as Readable, sink, (err) => (err ? reject(err) : resolve(seen)));
      });
    expect(await drain('clean-1')).toEqual([]);
    expect(await drain('p1')).toEqual(['p1']);
    expect(await drain('p2')).toEqual(['p2']);
    expect(calls).toEqual(['p1', 'p2']);
  });
});
