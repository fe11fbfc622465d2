/**
 * How the native core hands its outcomes to JavaScript (native/src/batch.c): the first `count`
 * outcomes of a Float64Array it keeps and reuses while a batch fits, a fresh array sized to the batch
 * when it does not — against a real server on loopback that answers a SUBSCRIBE with a burst of
 * 600 messages in one write.
 */
import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { loadNative, type NativeHandle } from '../../src/protocols/native/binding.js';
import { EV_MESSAGE, EV_PONG, EV_READY, EV_SUBACK, EVENT_STRIDE } from '../../src/protocols/native/codes.js';
import { buildConnect } from '../../src/protocols/mqtt/connect-packet.js';
import { nativeBuilt } from '../helpers/native.js';

const MESSAGES = 600;
const cleanups: (() => void)[] = [];

afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/**
 * A server that accepts one CONNECT, answers a SUBSCRIBE with its SUBACK and MESSAGES QoS 0 PUBLISHes
 * in one write, and a PINGREQ.
 */
function burstServer(): Promise<number> {
  const srv = net.createServer((s) => {
    s.on('error', () => {});
    let seen = Buffer.alloc(0);
    s.on('data', (d) => {
      seen = Buffer.concat([seen, d]);
      if (seen[0] === 0x10 && seen.length >= 2 + (seen[1] as number)) {
        s.write(Buffer.from([0x20, 0x02, 0x00, 0x00]));
        seen = seen.subarray(2 + (seen[1] as number));
      }
      if (seen[0] === 0x82 && seen.length >= 2 + (seen[1] as number)) {
        const publish = Buffer.from([0x30, 0x04, 0x00, 0x01, 0x74, 0x78]); // topic "t", payload "x"
        s.write(
          Buffer.concat([
            Buffer.from([0x90, 0x03, seen[2] as number, seen[3] as number, 0x00]),
            ...Array(MESSAGES).fill(publish),
          ]),
        );
        seen = Buffer.alloc(0);
      }
      if (seen[0] === 0xc0 && seen.length >= 2) {
        s.write(Buffer.from([0xd0, 0x00])); // PINGRESP
        seen = seen.subarray(2);
      }
    });
  });
  cleanups.push(() => srv.close());
  return new Promise((r) => srv.listen(0, '127.0.0.1', () => r((srv.address() as net.AddressInfo).port)));
}

interface Batch {
  count: number;
  array: Float64Array;
  kinds: number[];
}

describe.skipIf(!nativeBuilt())('native outcome batches', () => {
  it('come in one reused array while they fit, in an array of their own when they do not', async () => {
    const b = loadNative()!;
    const batches: Batch[] = [];
    let wake = (): void => {};
    const h: NativeHandle = b.create((ev, count) => {
      const kinds: number[] = [];
      for (let i = 0; i < count; i++) kinds.push(ev[i * EVENT_STRIDE + 1] as number);
      batches.push({ count, array: ev, kinds });
      wake();
    }, 64 * 1024);
    cleanups.push(() => b.close(h));
    const until = (done: () => boolean): Promise<void> =>
      new Promise((resolve) => {
        wake = () => done() && resolve();
        wake();
      });
    const kinds = (): number[] => batches.flatMap((x) => x.kinds);
    const connect = buildConnect({
      clientId: 'batch',
      username: null,
      password: null,
      keepaliveS: 30,
      clean: true,
      protocolVersion: 4,
    });
    expect(b.open(h, 0, '127.0.0.1', await burstServer(), null, connect, 4, 5_000, false)).toBe(0);
    await until(() => kinds().includes(EV_READY));
    expect(b.subscribe(h, 0, ['t'], 0)).toBeGreaterThan(0);
    await until(() => kinds().filter((k) => k === EV_MESSAGE).length === MESSAGES);
    b.ping(h, 0);
    await until(() => kinds().includes(EV_PONG));

    const all = kinds();
    expect([all.filter((k) => k === EV_READY).length, all.filter((k) => k === EV_SUBACK).length]).toEqual([1, 1]);
    expect(all.filter((k) => k === EV_MESSAGE).length).toBe(MESSAGES);
    const kept = b.batchKeptEvents;
    const small = batches.filter((x) => x.count <= kept);
    // CONNACK came before the SUBSCRIBE was sent, PINGRESP after the burst: two batches that fit, one array.
    expect(small.length).toBeGreaterThanOrEqual(2);
    expect(new Set(small.map((x) => x.array)).size).toBe(1);
    expect(small[0]?.array.length).toBe(kept * EVENT_STRIDE);
    for (const x of batches.filter((y) => y.count > kept)) {
      expect(x.array.length).toBe(x.count * EVENT_STRIDE);
      expect(x.array).not.toBe(small[0]?.array);
    }
    expect(batches.every((x) => x.count >= 1)).toBe(true);
  });
});
