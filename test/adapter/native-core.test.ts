/**
 * What only the native storm core has to prove, against real servers on loopback: it spreads
 * sources as told, goes dark on `silence` and is lost on `expire`, resets with RST, reuses a slot's
 * device for its next attempt with clean state, keeps a rebooted (silenced) session's socket apart
 * when its slot opens again, drops a pending attempt without a report, keeps the connect timeouts, and holds
 * and releases many sessions with every socket accounted for.
 */
import * as net from 'node:net';
import { Aedes } from 'aedes';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Failure } from '../../src/protocols/classify.js';
import type { Device } from '../../src/protocols/device.js';
import { DEVICE_KIND_ROWS, prepareTarget } from '../../src/protocols/kinds.js';
import { buildConnect } from '../../src/protocols/mqtt/connect-packet.js';
import { closeNativeCore, nativeCoreStats } from '../../src/protocols/native/core.js';
import { nativeBuilt } from '../helpers/native.js';
import { RecordingOwner } from './protocol-owner.js';

const built = nativeBuilt();
const CONNACK_OK = Buffer.from([0x20, 0x02, 0x00, 0x00]);
let nextId = 0;
const owners: RecordingOwner[] = [];
const servers: net.Server[] = [];
const sockets = new Set<net.Socket>();

function server(onConn: (s: net.Socket) => void): Promise<number> {
  const srv = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    onConn(s);
  });
  servers.push(srv);
  return new Promise((r) => srv.listen(0, '127.0.0.1', () => r((srv.address() as net.AddressInfo).port)));
}

/** An owner whose clock reads `lagUs` behind once set: what a pause between two clock reads looks like. */
class LaggingOwner extends RecordingOwner {
  lagUs = 0;
  override now(): number {
    return super.now() - this.lagUs;
  }
}

/** An owner that stamps when a failure is reported. */
class StampingOwner extends RecordingOwner {
  failedAtUs = NaN;
  override onFailed(c: Device, f: Failure): void {
    this.failedAtUs = this.now();
    super.onFailed(c, f);
  }
}

function owner(): RecordingOwner {
  const o = new RecordingOwner();
  owners.push(o);
  return o;
}

function open(
  port: number,
  o: RecordingOwner,
  opts: { localAddress?: string; timeoutMs?: number; slot?: number; version?: 4 | 5 } = {},
): Device {
  const t = prepareTarget('mqtt', `mqtt://127.0.0.1:${port}`);
  const id = opts.slot ?? nextId++;
  return DEVICE_KIND_ROWS.mqtt.open(
    t,
    {
      engine: 'native',
      deviceId: id,
      localAddress: opts.localAddress,
      connectTimeoutMs: opts.timeoutMs ?? 5_000,
      maxPacketBytes: 4096,
      connectPacket: buildConnect({
        clientId: `native-${id}`,
        username: null,
        password: null,
        keepaliveS: 30,
        clean: true,
        protocolVersion: opts.version ?? 4,
      }),
    },
    o,
  );
}

afterEach(async () => {
  for (const o of owners.splice(0)) closeNativeCore(o);
  for (const s of sockets) s.destroy();
  sockets.clear();
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
});

describe.skipIf(!built)('the native storm core', () => {
  it('binds the given source address (IP_BIND_ADDRESS_NO_PORT) and times every phase', async () => {
    const seen: string[] = [];
    const port = await server((s) => {
      seen.push(s.remoteAddress ?? '');
      s.once('data', () => s.write(CONNACK_OK));
    });
    const o = owner();
    const devs = ['127.0.0.2', '127.0.0.3'].map((a) => open(port, o, { localAddress: a }));
    for (const d of devs) expect((await o.outcome(d.deviceId)).kind).toBe('connected');
    expect(seen.sort()).toEqual(['127.0.0.2', '127.0.0.3']);
    const p = devs[0]!.phaseTimes();
    expect(p.tcpConnectUs).toBeGreaterThanOrEqual(0);
    expect(p.mqttConnackUs).toBeGreaterThanOrEqual(0);
    expect(p.serviceUs).toBe((p.tcpConnectUs as number) + (p.mqttConnackUs as number));
  });

  it('tells the owner when each batch of outcomes has ended, after its last outcome', async () => {
    const port = await server((s) => s.once('data', () => s.write(CONNACK_OK)));
    const o = owner();
    const devs = [0, 1, 2].map(() => open(port, o));
    for (const d of devs) expect((await o.outcome(d.deviceId)).kind).toBe('connected');
    const batches = o.of('connected').map((e) => e.batch as number);
    // Every outcome's batch has ended by now: the last one reported is followed by a batchEnded.
    expect(o.batchesEnded).toBe(Math.max(...batches) + 1);
  });

  it('silence: nothing more is read or answered; expire then loses it with the given failure', async () => {
    const port = await server((s) => {
      s.once('data', () => {
        s.write(CONNACK_OK);
        s.on('data', (b) => {
          if (b[0] === 0xc0) s.write(Buffer.from([0xd0, 0x00])); // PINGRESP
        });
      });
    });
    const o = owner();
    const d = open(port, o);
    expect((await o.outcome(d.deviceId)).kind).toBe('connected');
    d.silence();
    d.ping(); // dark: nothing is written, so nothing can answer it
    const sentUs = d.pingSentUs;
    await new Promise((r) => setTimeout(r, 100));
    expect(d.pingSentUs).toBe(sentUs);
    expect(d.state).toBe('connected');
    d.expire({ origin: 'network', phase: 'held', code: 'KEEPALIVE_TIMEOUT' });
    expect(o.of('lost', d.deviceId)[0]?.failure?.code).toBe('KEEPALIVE_TIMEOUT');
    expect(nativeCoreStats(o)[0]).toBe(0);
  });

  it('reset closes with RST (the server sees ECONNRESET) and reports the close once', async () => {
    const serverErrors: string[] = [];
    const port = await server((s) => {
      s.on('error', (e: NodeJS.ErrnoException) => serverErrors.push(e.code ?? ''));
      s.once('data', () => s.write(CONNACK_OK));
    });
    const o = owner();
    const d = open(port, o);
    expect((await o.outcome(d.deviceId)).kind).toBe('connected');
    d.reset();
    await o.waitKind('closed', d.deviceId);
    await o.waitFor(() => serverErrors.length > 0, 5_000, 'the server to see the reset');
    expect(serverErrors).toEqual(['ECONNRESET']);
    await new Promise((r) => setTimeout(r, 50));
    expect(o.of('closed', d.deviceId)).toHaveLength(1);
  });

  it("phase times are read on the addon's one clock: the owner's clock read late after the open moves none", async () => {
    // Before: the addon's stamps were moved onto the owner's clock with owner.now() − addon now, read
    // one after the other per batch; a pause between the two reads (a GC, the scheduler) moved every
    // stamp of the batch earlier, TCP connected before the open: tcpConnect clamped to 0 µs.
    const port = await server((s) => {
      s.once('data', () => s.write(CONNACK_OK));
    });
    const o = new LaggingOwner();
    owners.push(o);
    const d = open(port, o);
    o.lagUs = 1_000_000; // longer than any TCP connect and CONNACK here: the old way put every phase at 0 µs
    expect((await o.outcome(d.deviceId)).kind).toBe('connected');
    const p = d.phaseTimes();
    expect(p.tcpConnectUs).toBeGreaterThan(0);
    expect(p.mqttConnackUs).toBeGreaterThan(0);
    expect(p.serviceUs).toBeCloseTo((p.tcpConnectUs as number) + (p.mqttConnackUs as number), 6);
    expect(d.readyUs - d.socketOpenUs).toBe(p.serviceUs);
    expect(d.readyUs).toBeGreaterThan(d.socketOpenUs);
  });

  it('a slot opened again reuses its device with clean state: the second attempt has its own times', async () => {
    const port = await server((s) => {
      s.on('data', (b) => {
        if (b[0] === 0x10) s.write(CONNACK_OK);
        else if (b[0] === 0xe0) s.end(); // DISCONNECT: the server closes first
      });
    });
    const o = owner();
    const first = open(port, o, { slot: 3 });
    expect((await o.outcome(3)).kind).toBe('connected');
    const firstReadyUs = first.readyUs;
    first.end();
    await o.waitKind('closed', 3);
    expect(first.state).toBe('closed');
    const second = open(port, o, { slot: 3 });
    expect(second).toBe(first);
    expect(second.state).toBe('connecting');
    expect(second.readyUs).toBeNaN();
    expect(second.socketOpenUs).toBeGreaterThanOrEqual(firstReadyUs);
    await o.waitKind('connected', 3, 2);
    const p = second.phaseTimes();
    expect(second.readyUs).toBeGreaterThanOrEqual(second.socketOpenUs);
    expect(p.serviceUs).toBe(second.readyUs - second.socketOpenUs);
    expect(p.serviceUs).toBe((p.tcpConnectUs as number) + (p.mqttConnackUs as number));
    expect(nativeCoreStats(o)[0]).toBe(1);
  });

  it('a slot opened again forgets the MQTT 5 signal of its previous attempt', async () => {
    let n = 0;
    const port = await server((s) => {
      // First attempt: CONNACK 0x9C with a Server Reference; then an accepting CONNACK without properties.
      const refused = Buffer.from([0x20, 0x09, 0x00, 0x9c, 0x06, 0x1c, 0x00, 0x03, 0x61, 0x3a, 0x31]);
      const accepted = Buffer.from([0x20, 0x03, 0x00, 0x00, 0x00]);
      s.once('data', () => s.write(n++ === 0 ? refused : accepted));
    });
    const o = owner();
    const first = open(port, o, { slot: 7, version: 5 });
    expect((await o.outcome(7)).failure?.code).toBe('CONNACK_9C');
    expect(first.serverSignal).toMatchObject({ packet: 'connack', reasonCode: 0x9c, serverReference: 'a:1' });
    const second = open(port, o, { slot: 7, version: 5 });
    expect(second.serverSignal).toBeNull();
    await o.waitKind('connected', 7);
    expect(second.serverSignal).toBeNull();
    second.abort();
    await o.waitKind('closed', 7);
  });

  it('a reboot: a silenced session whose slot opens again keeps its socket apart until it is aborted', async () => {
    const closedByPeer: number[] = [];
    let accepted = 0;
    const port = await server((s) => {
      const n = accepted++;
      s.on('close', () => closedByPeer.push(n));
      s.once('data', () => s.write(CONNACK_OK));
    });
    const o = owner();
    const old = open(port, o, { slot: 5 });
    expect((await o.outcome(5)).kind).toBe('connected');
    old.silence();
    const next = open(port, o, { slot: 5 });
    expect(next).not.toBe(old);
    await o.waitKind('connected', 5, 2);
    // Both sockets open at the server; the old handle speaks for its dark socket only.
    expect(sockets.size).toBe(2);
    expect(closedByPeer).toEqual([]);
    expect(nativeCoreStats(o)[0]).toBe(2);
    expect(old.state).toBe('connected');
    expect(next.state).toBe('connected');
    old.abort();
    expect(old.state).toBe('closed');
    await o.waitFor(() => closedByPeer.length === 1, 5_000, 'the server to see the old socket close');
    expect(closedByPeer).toEqual([0]);
    expect(next.state).toBe('connected');
    expect(nativeCoreStats(o)[0]).toBe(1);
    // Its close is reported once; the new session is untouched.
    await o.waitKind('closed', 5);
    expect(o.events.filter((e) => e.kind === 'closed')).toHaveLength(1);
    next.abort();
    await o.waitKind('closed', 5, 2);
    expect(nativeCoreStats(o)[0]).toBe(0);
  });

  it('keeps the connect timeouts: in deadline order across timeouts, in their phase, none once answered', async () => {
    let closes = 0;
    let allClosed = (): void => {};
    const closed = new Promise<void>((r) => (allClosed = r));
    // Accepts, reads and never answers; sees each timed-out socket close.
    const silent = await server((s) => s.resume().on('close', () => ++closes === 4 && allClosed()));
    const answering = await server((s) => s.once('data', () => s.write(CONNACK_OK)));
    const o = owner();
    const late = [0, 1].map(() => open(silent, o, { timeoutMs: 700 }));
    const early = [0, 1].map(() => open(silent, o, { timeoutMs: 300 }));
    // Answered well inside its deadline (the later one: a stall of the busy test process gets 700 ms, not 300),
    // which would otherwise fire among the late ones.
    const answered = open(answering, o, { timeoutMs: 700 });
    expect(nativeCoreStats(o)[2]).toBe(5);
    await o.waitFor((ev) => ev.filter((e) => e.kind === 'failed').length === 4, 10_000, 'four timeouts');
    const failed = o.events.filter((e) => e.kind === 'failed');
    // The shorter timeout's attempts first, though opened last; each cohort in open order.
    expect(failed.map((e) => e.deviceId)).toEqual([...early, ...late].map((d) => d.deviceId));
    for (const e of failed)
      expect(e.failure).toEqual({ origin: 'timeout', phase: 'mqttConnack', code: 'CONNECT_TIMEOUT' });
    expect(o.events.filter((e) => e.deviceId === answered.deviceId).map((e) => e.kind)).toEqual(['connected']);
    expect([...early, ...late].map((d) => d.state)).toEqual(['closed', 'closed', 'closed', 'closed']);
    // The timed-out sockets are closed; the answered one's stale deadline is gone too.
    await closed;
    expect(nativeCoreStats(o)[0]).toBe(1);
    expect(nativeCoreStats(o)[2]).toBe(0);
  });

  it('a connect timeout counts from the open, however long the loop turn that opened it had run', async () => {
    const silent = await server((s) => s.resume()); // accepts, reads, never answers
    const o = new StampingOwner();
    owners.push(o);
    // The loop's cached clock now lags 250 ms: a deadline read from it would fall 250 ms early.
    const spinUntil = performance.now() + 250;
    while (performance.now() < spinUntil);
    const d = open(silent, o, { timeoutMs: 300 });
    const r = await o.outcome(d.deviceId);
    expect(r.failure).toEqual({ origin: 'timeout', phase: 'mqttConnack', code: 'CONNECT_TIMEOUT' });
    // Not before 300 ms, to the 1 ms granularity of the loop's clock (and its coarse source).
    expect(o.failedAtUs - d.socketOpenUs).toBeGreaterThanOrEqual(298_000);
  });

  it('abort of a pending attempt reports nothing more and frees the socket', async () => {
    const port = await server(() => {}); // accepts, never answers
    const o = owner();
    const d = open(port, o, { timeoutMs: 200 });
    await o.waitFor(() => sockets.size === 1, 5_000, 'the connection');
    d.abort();
    await new Promise((r) => setTimeout(r, 300)); // past the connect timeout
    expect(o.events.filter((e) => e.deviceId === d.deviceId)).toEqual([]);
    expect(nativeCoreStats(o)[0]).toBe(0);
  });
});

describe.skipIf(!built)('the native storm core against aedes', () => {
  let aedes: Aedes;
  let broker: net.Server;
  let port = 0;
  beforeAll(async () => {
    aedes = await Aedes.createBroker();
    port = await server((s) => aedes.handle(s));
    broker = servers.pop() as net.Server; // this one outlives each test
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => broker.close(() => r()));
    await new Promise<void>((r) => aedes.close(() => r()));
  });

  it('holds 500 sessions, ends them DISCONNECT-first and releases every socket', async () => {
    const o = owner();
    const devs = Array.from({ length: 500 }, (_, i) => open(port, o, { slot: i }));
    await o.waitFor(() => o.of('connected').length === 500, 20_000, '500 connected');
    expect(o.of('failed')).toEqual([]);
    expect(nativeCoreStats(o)[0]).toBe(500);
    for (const d of devs) d.end();
    await o.waitFor(() => o.of('closed').length === 500, 20_000, '500 closed');
    expect(devs.filter((d) => (d as unknown as { endedBy: string }).endedBy !== 'peer')).toEqual([]);
    expect(nativeCoreStats(o)[0]).toBe(0);
  });
});
