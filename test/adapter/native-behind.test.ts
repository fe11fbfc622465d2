/**
 * The native core reads a bounded number of socket events per loop turn (8 rounds of 256), so
 * timers keep their turn under a storm; `nativeBehind` says when its last turn stopped at that
 * bound with events still waiting, and the engine's keepalive judgement waits for it. Proved on a
 * real loopback server in a worker thread: this thread blocks (Atomics.wait, on the server's word,
 * bounded) until every PINGRESP has been written, so more answers than one turn reads are waiting.
 */
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Device } from '../../src/protocols/device.js';
import { closeNativeCore, nativeBehind } from '../../src/protocols/native/core.js';
import { nativeBuilt } from '../helpers/native.js';
import { openMqttDevice, RecordingOwner } from './protocol-owner.js';

const built = nativeBuilt();
/** More than one turn's 2,048 events. */
const DEVICES = 2_600;

/** Answers CONNECT with CONNACK and PINGREQ with PINGRESP; after the DEVICES-th PINGRESP, notifies. */
const SERVER = `
const net = require('node:net');
const { parentPort, workerData } = require('node:worker_threads');
const flag = new Int32Array(workerData.flag);
let pings = 0;
const srv = net.createServer((s) => {
  s.on('error', () => {});
  s.on('data', (b) => {
    for (let i = 0; i < b.length; ) {
      const type = b[i] >> 4, len = b[i + 1];
      if (type === 1) s.write(Buffer.from([0x20, 2, 0, 0]));
      if (type === 12) {
        s.write(Buffer.from([0xd0, 0]));
        if (++pings === workerData.devices) { Atomics.store(flag, 0, 1); Atomics.notify(flag, 0); }
      }
      i += 2 + len;
    }
  });
});
srv.listen(0, '127.0.0.1', () => parentPort.postMessage(srv.address().port));
parentPort.on('message', () => srv.close(() => process.exit(0)));
`;

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe.skipIf(!built)('the native core’s word on unread socket events', () => {
  const flag = new SharedArrayBuffer(4);
  let worker: Worker;
  let port: number;
  const owner = new RecordingOwner();

  beforeAll(async () => {
    worker = new Worker(SERVER, { eval: true, workerData: { flag, devices: DEVICES } });
    port = await new Promise<number>((r) => worker.once('message', r));
  });
  afterAll(async () => {
    closeNativeCore(owner);
    worker.postMessage('close');
    await new Promise((r) => worker.once('exit', r));
  });

  it('after a stall with 2,600 answers waiting, the first turn reads 2,048 and says it is behind', async () => {
    const devices: Device[] = [];
    for (let id = 0; id < DEVICES; id++) {
      const localAddress = id % 2 === 0 ? '127.0.0.2' : '127.0.0.3';
      devices.push(
        openMqttDevice(owner, {
          engine: 'native',
          port,
          id,
          clientId: `behind-${id}`,
          timeoutMs: 10_000,
          localAddress,
        }),
      );
    }
    await owner.waitFor((e) => e.filter((x) => x.kind === 'connected').length === DEVICES, 20_000);
    expect(owner.events.filter((x) => x.kind !== 'connected')).toEqual([]);
    await turn();
    expect(nativeBehind(owner)).toBe(false);

    for (const d of devices) d.ping();
    // This thread is busy until the server has written every answer (bounded: 20 s).
    expect(Atomics.wait(new Int32Array(flag), 0, 0, 20_000)).not.toBe('timed-out');
    const answered = (): number => devices.filter((d) => Number.isNaN(d.pingSentUs)).length;
    expect(answered()).toBe(0);

    await turn();
    expect(answered()).toBe(2_048);
    expect(nativeBehind(owner)).toBe(true);
    await turn();
    expect(answered()).toBe(DEVICES);
    expect(nativeBehind(owner)).toBe(false);
  });
});
