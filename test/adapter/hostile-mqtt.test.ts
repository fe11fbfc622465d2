/**
 * Misbehaving MQTT servers on loopback: whatever they do becomes one classified failure, never a
 * crash, and the bytes held per connection stay under the configured caps. Run on the JavaScript
 * path and on the native storm core (when built): both give the same classified outcomes.
 */
import * as net from 'node:net';
import * as mqtt from 'mqtt-packet';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isLoadShedding } from '../../src/protocols/classify.js';
import { DEVICE_KIND_ROWS, prepareTarget } from '../../src/protocols/kinds.js';
import { buildConnect } from '../../src/protocols/mqtt/connect-packet.js';
import type { MqttConnection } from '../../src/protocols/mqtt/connection.js';
import type { NativeDevice } from '../../src/protocols/native/device.js';
import { engines } from '../helpers/native.js';
import { RecordingOwner } from './protocol-owner.js';

const MAX_PACKET_BYTES = 4096;
const servers: net.Server[] = [];
const accepted = new Set<net.Socket>();

afterEach(async () => {
  for (const s of accepted) s.destroy();
  accepted.clear();
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
});

/** A server that runs `behave` on each connection once the client's first bytes (CONNECT) arrive. */
async function hostile(behave: (s: net.Socket) => void, onAccept?: (s: net.Socket) => void): Promise<number> {
  const server = net.createServer((s) => {
    accepted.add(s);
    s.on('error', () => {});
    s.on('close', () => accepted.delete(s));
    if (onAccept) return onAccept(s);
    s.once('data', () => behave(s));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return (server.address() as net.AddressInfo).port;
}

let nextId = 0;
let engine: 'js' | 'native' = 'js';
function connect(
  port: number,
  owner: RecordingOwner,
  version: 4 | 5 = 4,
  connectTimeoutMs = 2_000,
): MqttConnection | NativeDevice {
  const t = prepareTarget('mqtt', `mqtt://127.0.0.1:${port}`);
  return DEVICE_KIND_ROWS.mqtt.open(
    t,
    {
      engine,
      deviceId: nextId++,
      localAddress: undefined,
      connectTimeoutMs,
      maxPacketBytes: MAX_PACKET_BYTES,
      connectPacket: buildConnect({
        clientId: `hostile-${nextId}`,
        username: null,
        password: null,
        keepaliveS: 30,
        clean: true,
        protocolVersion: version,
      }),
    },
    owner,
  );
}

const CONNACK_OK = Buffer.from([0x20, 0x02, 0x00, 0x00]);
/** MQTT 5: flags, reason code 0, property length 0. */
const CONNACK_V5 = Buffer.from([0x20, 0x03, 0x00, 0x00, 0x00]);

describe.each(engines())('hostile MQTT servers (%s)', (e) => {
  beforeEach(() => {
    engine = e;
  });

  it('silence: the connect timer fires in the phase it was stuck in', async () => {
    const owner = new RecordingOwner();
    const c = connect(await hostile(() => {}), owner, 4, 300);
    const r = await owner.outcome(c.deviceId);
    expect(r.failure).toEqual({ origin: 'timeout', phase: 'mqttConnack', code: 'CONNECT_TIMEOUT' });
    await owner.waitFor(() => c.state === 'closed');
  });

  it('garbage bytes instead of CONNACK are a protocol failure', async () => {
    const owner = new RecordingOwner();
    const page = 'HTTP/1.1 400 Bad Request\r\nContent-Type: text/html\r\n\r\n' + '<html>nope</html>'.repeat(10);
    const c = connect(await hostile((s) => s.write(page)), owner);
    const r = await owner.outcome(c.deviceId);
    expect(r.failure).toEqual({ origin: 'protocol', phase: 'mqttConnack', code: 'MQTT_UNEXPECTED_PACKET' });
  });

  it('a reset during the handshake is a network failure', async () => {
    const owner = new RecordingOwner();
    const c = connect(await hostile((s) => s.resetAndDestroy()), owner);
    const r = await owner.outcome(c.deviceId);
    expect(r.failure?.origin).toBe('network');
    expect(r.failure?.phase).toBe('mqttConnack');
    expect(['ECONNRESET', 'CLOSED_BEFORE_CONNACK']).toContain(r.failure?.code);
  });

  it('an oversized remaining length is refused before any of it is buffered', async () => {
    const owner = new RecordingOwner();
    // 0x7fffff7f: a 268 MB CONNACK announced in four length bytes.
    const c = connect(await hostile((s) => s.write(Buffer.from([0x20, 0xff, 0xff, 0xff, 0x7f]))), owner);
    const r = await owner.outcome(c.deviceId);
    expect(r.failure).toEqual({ origin: 'protocol', phase: 'mqttConnack', code: 'MQTT_PACKET_TOO_LARGE' });
    expect(c.bufferedBytes).toBe(0);
  });

  it('a remaining length longer than four bytes is malformed', async () => {
    const owner = new RecordingOwner();
    const c = connect(await hostile((s) => s.write(Buffer.from([0x20, 0xff, 0xff, 0xff, 0xff, 0x01]))), owner);
    const r = await owner.outcome(c.deviceId);
    expect(r.failure).toEqual({ origin: 'protocol', phase: 'mqttConnack', code: 'MQTT_MALFORMED_LENGTH' });
  });

  it('CONNACK then close: connected, then lost as PEER_CLOSED', async () => {
    const owner = new RecordingOwner();
    const c = connect(await hostile((s) => s.end(CONNACK_OK)), owner);
    expect((await owner.outcome(c.deviceId)).kind).toBe('connected');
    const [lost] = await owner.waitKind('lost', c.deviceId);
    expect(lost?.failure).toEqual({ origin: 'network', phase: 'held', code: 'PEER_CLOSED' });
  });

  it('an endless packet after CONNACK is cut off at maxPacketBytes, memory bounded', async () => {
    const owner = new RecordingOwner();
    const chunk = Buffer.alloc(16 * 1024, 0x41);
    let written = 0;
    const port = await hostile((s) => {
      s.write(CONNACK_OK);
      // A PUBLISH announcing 100 MB, then bytes for as long as the client keeps the socket open.
      s.write(Buffer.from([0x30, 0x80, 0x80, 0x80, 0x30]));
      const pump = (): void => {
        while (!s.destroyed && written < 64 * 1024 * 1024 && s.write(chunk)) written += chunk.length;
        if (!s.destroyed && written < 64 * 1024 * 1024) s.once('drain', pump);
      };
      pump();
    });
    const c = connect(port, owner);
    const [lost] = await owner.waitKind('lost', c.deviceId);
    expect(lost?.failure).toEqual({ origin: 'protocol', phase: 'held', code: 'MQTT_PACKET_TOO_LARGE' });
    expect(c.bufferedBytes).toBeLessThanOrEqual(MAX_PACKET_BYTES);
  });

  it('an endless stream of small valid PUBLISHes is consumed without growing buffers', async () => {
    let messages = 0;
    const owner = new (class extends RecordingOwner {
      override onMessage(): void {
        messages++;
      }
    })();
    // topic "t", payload "x", QoS 0, repeated.
    const one = Buffer.from([0x30, 0x04, 0x00, 0x01, 0x74, 0x78]);
    const burst = Buffer.concat(new Array(2000).fill(one));
    let sends = 0;
    const port = await hostile((s) => {
      s.write(CONNACK_OK);
      const pump = (): void => {
        while (!s.destroyed && sends < 200 && s.write(burst)) sends++;
        if (!s.destroyed && sends < 200) s.once('drain', pump);
        // The native core is connect-only and delivers no messages: the server closes after the
        // last one, and the close reaches the device only once it has read every byte before it.
        else if (e === 'native') s.end();
      };
      pump();
    });
    const c = connect(port, owner);
    if (e === 'js') {
      await owner.waitFor(() => messages >= 400_000, 20_000, '400k messages');
      expect(c.bufferedBytes).toBeLessThan(one.length);
      expect(c.state).toBe('connected');
      c.abort();
      await owner.waitKind('closed', c.deviceId);
      return;
    }
    let maxBuffered = 0;
    await owner.waitFor(
      () => {
        if (c.state === 'connected') maxBuffered = Math.max(maxBuffered, c.bufferedBytes);
        return owner.of('lost', c.deviceId).length > 0;
      },
      20_000,
      'every message read, then the close',
    );
    expect(sends).toBe(200);
    expect(owner.of('lost', c.deviceId)[0]?.failure).toEqual({ origin: 'network', phase: 'held', code: 'PEER_CLOSED' });
    expect(maxBuffered).toBeLessThan(one.length);
  });

  it('a mid-packet malformed frame after CONNACK loses the session as a protocol error', async () => {
    const owner = new RecordingOwner();
    // SUBACK with a QoS-bits violation in the fixed header flags (must be 0b0000).
    const c = connect(
      await hostile((s) => s.write(Buffer.concat([CONNACK_OK, Buffer.from([0x9f, 0x03, 0x00, 0x01, 0x00])]))),
      owner,
    );
    const [lost] = await owner.waitKind('lost', c.deviceId);
    expect(lost?.failure).toEqual({ origin: 'protocol', phase: 'held', code: 'MQTT_MALFORMED_PACKET' });
  });

  it('MQTT 5 CONNACK 0x89 and 0x9F are refusals marked as load shedding', async () => {
    for (const rc of [0x89, 0x9f]) {
      const owner = new RecordingOwner();
      // CONNACK v5: flags, reason code, property length 0.
      const c = connect(await hostile((s) => s.write(Buffer.from([0x20, 0x03, 0x00, rc, 0x00]))), owner, 5);
      const r = await owner.outcome(c.deviceId);
      expect(r.failure).toEqual({
        origin: 'protocol',
        phase: 'mqttConnack',
        code: `CONNACK_${rc.toString(16).toUpperCase()}`,
      });
      expect(isLoadShedding(r.failure!)).toBe(true);
    }
  });

  it('an MQTT 5 server DISCONNECT carries its reason code; 0x89 is load shedding, 0x8B is not', async () => {
    for (const rc of [0x89, 0x8b]) {
      const owner = new RecordingOwner();
      const c = connect(
        await hostile((s) => s.write(Buffer.from([0x20, 0x03, 0x00, 0x00, 0x00, 0xe0, 0x02, rc, 0x00]))),
        owner,
        5,
      );
      expect((await owner.outcome(c.deviceId)).kind).toBe('connected');
      const [lost] = await owner.waitKind('lost', c.deviceId);
      expect(lost?.failure).toEqual({
        origin: 'protocol',
        phase: 'held',
        code: `DISCONNECT_${rc.toString(16).toUpperCase()}`,
      });
      expect(isLoadShedding(lost!.failure!)).toBe(rc === 0x89);
    }
  });

  // issue 22: the MQTT 5 signals the engine steers by, read alike on both paths (server-signals.ts, signal.c).
  const v5 = (p: mqtt.Packet): Buffer => mqtt.generate(p, { protocolVersion: 5 });
  const NO_SIGNAL = {
    serverKeepAliveS: null,
    sessionExpiryS: null,
    serverReference: null,
    maximumQoS: null,
    retainAvailable: null,
  };

  it('MQTT 5 CONNACK properties become the server signal of the attempt', async () => {
    const owner = new RecordingOwner();
    const connack = v5({
      cmd: 'connack',
      sessionPresent: false,
      reasonCode: 0,
      properties: { serverKeepAlive: 7, sessionExpiryInterval: 90, maximumQoS: 0, retainAvailable: false },
    });
    const c = connect(await hostile((s) => s.write(connack)), owner, 5);
    expect((await owner.outcome(c.deviceId)).kind).toBe('connected');
    expect(c.serverSignal).toEqual({
      ...NO_SIGNAL,
      packet: 'connack',
      reasonCode: 0,
      serverKeepAliveS: 7,
      sessionExpiryS: 90,
      maximumQoS: 0,
      retainAvailable: false,
    });
    c.abort();
  });

  it('a refusing MQTT 5 CONNACK with a Server Reference: the refusal, and the reference as its signal', async () => {
    const owner = new RecordingOwner();
    const refusal = v5({
      cmd: 'connack',
      sessionPresent: false,
      reasonCode: 0x9c,
      properties: { serverReference: '127.0.0.1:1884', reasonString: 'go elsewhere' },
    });
    const c = connect(await hostile((s) => s.write(refusal)), owner, 5);
    expect((await owner.outcome(c.deviceId)).failure).toEqual({
      origin: 'protocol',
      phase: 'mqttConnack',
      code: 'CONNACK_9C',
    });
    expect(c.serverSignal).toEqual({
      ...NO_SIGNAL,
      packet: 'connack',
      reasonCode: 0x9c,
      serverReference: '127.0.0.1:1884',
    });
  });

  it('a server DISCONNECT that arrives in pieces is read as it streams: reason code and Server Reference', async () => {
    const owner = new RecordingOwner();
    const disconnect = v5({ cmd: 'disconnect', reasonCode: 0x9d, properties: { serverReference: '127.0.0.2:1883' } });
    let server: net.Socket | undefined;
    const c = connect(
      await hostile((s) => {
        server = s;
        s.write(Buffer.concat([CONNACK_V5, disconnect.subarray(0, 6)]));
      }),
      owner,
      5,
    );
    // The first part is held (bufferedBytes counts it on both paths) before the rest is sent.
    await owner.waitFor(() => c.state === 'connected' && c.bufferedBytes > 0, 5_000, 'the first part read');
    server!.write(disconnect.subarray(6));
    const [lost] = await owner.waitKind('lost', c.deviceId);
    expect(lost?.failure).toEqual({ origin: 'protocol', phase: 'held', code: 'DISCONNECT_9D' });
    expect(c.serverSignal).toEqual({
      ...NO_SIGNAL,
      packet: 'disconnect',
      reasonCode: 0x9d,
      serverReference: '127.0.0.2:1883',
    });
  });

  it('an accepting MQTT 5 CONNACK whose property length overruns the packet is a protocol failure', async () => {
    const owner = new RecordingOwner();
    // Property length 9, but only Server Keep Alive (3 bytes) follows.
    const bad = Buffer.from([0x20, 0x06, 0x00, 0x00, 0x09, 0x13, 0x00, 0x07]);
    const c = connect(await hostile((s) => s.write(bad)), owner, 5);
    expect((await owner.outcome(c.deviceId)).failure).toEqual({
      origin: 'protocol',
      phase: 'mqttConnack',
      code: 'MQTT_MALFORMED_PACKET',
    });
    expect(c.serverSignal ?? null).toBeNull();
  });

  it('malformed properties on a refusal or a DISCONNECT: the reason code is reported, no signal is taken', async () => {
    for (const [name, packets, kind, code] of [
      // Server Keep Alive may not be sent on DISCONNECT.
      ['DISCONNECT', [CONNACK_V5, Buffer.from([0xe0, 0x05, 0x89, 0x03, 0x13, 0x00, 0x07])], 'lost', 'DISCONNECT_89'],
      // A Server Reference whose string length runs past the packet.
      ['CONNACK', [Buffer.from([0x20, 0x06, 0x00, 0x9f, 0x03, 0x1c, 0x00, 0x40])], 'failed', 'CONNACK_9F'],
    ] as const) {
      const owner = new RecordingOwner();
      const c = connect(await hostile((s) => s.write(Buffer.concat(packets))), owner, 5);
      const [r] = await owner.waitKind(kind, c.deviceId);
      expect(r?.failure?.code, name).toBe(code);
      expect(c.serverSignal ?? null, name).toBeNull();
    }
  });

  it('a DISCONNECT with reserved flag bits set is malformed, not a reason code', async () => {
    const owner = new RecordingOwner();
    const c = connect(
      await hostile((s) => s.write(Buffer.concat([CONNACK_V5, Buffer.from([0xe1, 0x01, 0x89])]))),
      owner,
      5,
    );
    const [lost] = await owner.waitKind('lost', c.deviceId);
    expect(lost?.failure).toEqual({ origin: 'protocol', phase: 'held', code: 'MQTT_MALFORMED_PACKET' });
    // No DISCONNECT signal was taken (the accepting CONNACK without properties may stand: see Device.serverSignal).
    expect(c.serverSignal?.packet).not.toBe('disconnect');
  });

  it('a Server Reference announced long and never sent holds only what arrived', async () => {
    const owner = new RecordingOwner();
    // DISCONNECT 0x9C announcing a 3,000-byte Server Reference; 16 bytes of it are sent, then nothing.
    const plen = 1 + 2 + 3000;
    const rem = 1 + 2 + plen;
    const vbi = (n: number): number[] => [(n & 0x7f) | 0x80, n >> 7];
    const head = Buffer.from([0xe0, ...vbi(rem), 0x9c, ...vbi(plen), 0x1c, 3000 >> 8, 3000 & 0xff]);
    const c = connect(
      await hostile((s) => s.write(Buffer.concat([CONNACK_V5, head, Buffer.alloc(16, 0x61)]))),
      owner,
      5,
    );
    await owner.waitFor(() => c.state === 'connected' && c.bufferedBytes > 0, 5_000, 'the first part read');
    expect(c.bufferedBytes).toBeLessThanOrEqual(256);
    c.abort();
    await owner.waitKind('closed', c.deviceId);
  });

  it('a refused connection is a network failure in tcpConnect', async () => {
    const port = await hostile(() => {});
    await new Promise<void>((r) => (servers.pop() as net.Server).close(() => r()));
    const owner = new RecordingOwner();
    const c = connect(port, owner);
    const r = await owner.outcome(c.deviceId);
    expect(r.failure).toEqual({ origin: 'network', phase: 'tcpConnect', code: 'ECONNREFUSED' });
  });
});
