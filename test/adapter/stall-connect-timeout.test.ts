/**
 * A stall of herd's own worker is not the target's timeout: a CONNACK that reached the socket while
 * the worker was busy past the connect timeout is read before the timeout is judged, on both
 * engines. The server runs in a worker thread so it answers while this thread is blocked: this
 * thread waits (Atomics.wait, on the server's word, bounded) until the CONNACK is written, then stays
 * busy until the connect timeout has passed — the stall — before the loop turns again.
 */
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Device } from '../../src/protocols/device.js';
import { closeNativeCore } from '../../src/protocols/native/core.js';
import { engines } from '../helpers/native.js';
import { openMqttDevice, RecordingOwner } from './protocol-owner.js';

/** Far above a loopback CONNECT's ms here, so the CONNACK is always written before it passes. */
const TIMEOUT_MS = 1_000;

/** Holds each CONNECT until told 'answer' (CONNACK, then flag = 1) or 'silent' (never answers). */
const SERVER = `
const net = require('node:net');
const { parentPort, workerData } = require('node:worker_threads');
const flag = new Int32Array(workerData.flag);
let held = null;
const all = new Set();
const srv = net.createServer((s) => {
  all.add(s);
  s.on('error', () => {});
  s.once('data', () => { held = s; parentPort.postMessage('connect'); });
});
parentPort.on('message', (m) => {
  if (m === 'close') {
    for (const s of all) s.destroy();
    return srv.close(() => process.exit(0));
  }
  if (m === 'answer') held.write(Buffer.from([0x20, 2, 0, 0]));
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
});
srv.listen(0, '127.0.0.1', () => parentPort.postMessage(srv.address().port));
`;

describe('a connect timeout judged across a stall of herd’s worker', () => {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  let worker: Worker;
  let port: number;
  const owners: RecordingOwner[] = [];
  const devices: Device[] = [];

  beforeAll(async () => {
    worker = new Worker(SERVER, { eval: true, workerData: { flag: flag.buffer } });
    port = await new Promise<number>((r) => worker.once('message', r));
  });
  afterAll(async () => {
    for (const d of devices) d.abort();
    for (const o of owners) closeNativeCore(o);
    worker.postMessage('close');
    await new Promise((r) => worker.once('exit', r));
  });

  /** Opens one device, lets the server hear its CONNECT, then stalls past the timeout after `reply`. */
  async function stalled(engine: 'js' | 'native', reply: 'answer' | 'silent'): Promise<RecordingOwner> {
    const o = new RecordingOwner();
    owners.push(o);
    const heard = new Promise((r) => worker.once('message', r));
    const openedMs = performance.now();
    const clientId = `stall-${engine}-${reply}`;
    const d = openMqttDevice(o, { engine, port, id: 0, clientId, timeoutMs: TIMEOUT_MS });
    devices.push(d);
    expect(await heard).toBe('connect');
    expect(performance.now() - openedMs).toBeLessThan(TIMEOUT_MS); // the CONNECT came well in time
    Atomics.store(flag, 0, 0);
    worker.postMessage(reply);
    expect(Atomics.wait(flag, 0, 0, 20_000)).not.toBe('timed-out'); // the server has written (or not)
    while (performance.now() < openedMs + TIMEOUT_MS + 20); // busy past the connect timeout
    return o;
  }

  for (const engine of engines()) {
    it(`${engine}: a lookup answered during the stall still times out in dns, the phase the time ran out in`, async () => {
      const o = new RecordingOwner();
      owners.push(o);
      const openedMs = performance.now();
      const clientId = `stall-dns-${engine}`;
      devices.push(openMqttDevice(o, { engine, port, id: 0, clientId, timeoutMs: TIMEOUT_MS, host: 'localhost' }));
      while (performance.now() < openedMs + TIMEOUT_MS + 20); // busy past the timeout; the lookup ends meanwhile
      expect(await o.outcome(0)).toMatchObject({
        kind: 'failed',
        failure: { origin: 'timeout', phase: 'dns', code: 'CONNECT_TIMEOUT' },
      });
    });

    it(`${engine}: the CONNACK that arrived during the stall is a connect, not CONNECT_TIMEOUT`, async () => {
      const o = await stalled(engine, 'answer');
      expect(await o.outcome(0)).toMatchObject({ kind: 'connected' });
    });

    it(`${engine}: a server that never answers still times out, in the CONNACK phase`, async () => {
      const o = await stalled(engine, 'silent');
      expect(await o.outcome(0)).toMatchObject({
        kind: 'failed',
        failure: { origin: 'timeout', phase: 'mqttConnack', code: 'CONNECT_TIMEOUT' },
      });
    });
  }
});
