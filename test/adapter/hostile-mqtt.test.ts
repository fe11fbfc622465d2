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
/** Reads what the client sends, as a server would (mqtt-packet), and hands over each packet. */
function readClient(s: net.Socket, version: 4 | 5, on: (p: mqtt.Packet) => void): void {
  const parser = mqtt.parser({ protocolVersion: version });
  parser.on('packet', on);
  s.on('data', (d: Buffer) => parser.parse(d));
}

/** Writes `b` one byte per write, each after the previous one was handed to the kernel. */
async function byteByByte(s: net.Socket, b: Buffer): Promise<void> {
  for (let i = 0; i < b.length && !s.destroyed; i++)
    await new Promise<void>((r) => s.write(b.subarray(i, i + 1), () => r()));
}

/** A 3.1.1 PUBACK (version 4) for `id`. */
function puback(_version: 4, id: number): Buffer {
  return Buffer.from([0x40, 0x02, id >> 8, id & 0xff]);
}

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
      };
      pump();
    });
    const c = connect(port, owner);
    let maxBuffered = 0;
    await owner.waitFor(
      () => {
        if (c.state === 'connected') maxBuffered = Math.max(maxBuffered, c.bufferedBytes);
        return messages >= 400_000;
      },
      20_000,
      '400k messages',
    );
    expect(maxBuffered).toBeLessThan(one.length);
    expect(c.bufferedBytes).toBeLessThan(one.length);
    expect(c.state).toBe('connected');
    c.abort();
    await owner.waitKind('closed', c.deviceId);
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

  // Issue 26: messaging on both paths — the native core reads these packets itself (native/src/msg.c).

  it('a PUBACK without or with an unknown packet id is ignored; the right one completes the publish with its tag', async () => {
    const owner = new RecordingOwner();
    const port = await hostile(
      () => {},
      (s) =>
        readClient(s, 4, (p) => {
          if (p.cmd === 'connect') s.write(CONNACK_OK);
          const id = p.cmd === 'publish' ? (p.messageId as number) : 0;
          // A PUBACK without a packet id, one for an id never sent, then the right one.
          if (id !== 0) s.write(Buffer.concat([Buffer.from([0x40, 0x00]), puback(4, (id % 65535) + 1), puback(4, id)]));
        }),
    );
    const c = connect(port, owner);
    expect((await owner.outcome(c.deviceId)).kind).toBe('connected');
    const id = c.mqtt!.publish('t/1', Buffer.from('hello'), 1, false, 7);
    expect(id).toBeGreaterThan(0);
    const [pub] = await owner.waitKind('published', c.deviceId);
    expect(pub).toMatchObject({ packetId: id, qos: 1, reasonCode: 0, tag: 7 });
    // The others came first in the same write: they were read, and they changed nothing.
    expect(owner.of('published', c.deviceId)).toHaveLength(1);
    expect(c.state).toBe('connected');
    c.abort();
    await owner.waitKind('closed', c.deviceId);
  });

  it('a SUBACK with a return code its version does not define loses the session', async () => {
    for (const [version, connack, suback] of [
      [4, CONNACK_OK, [0x90, 0x03, 0x00, 0x01, 0x03]],
      // MQTT 5: property length 0, then 0x05 (not a SUBACK reason code).
      [5, CONNACK_V5, [0x90, 0x04, 0x00, 0x01, 0x00, 0x05]],
    ] as const) {
      const owner = new RecordingOwner();
      const port = await hostile(
        () => {},
        (s) =>
          readClient(s, version, (p) => {
            if (p.cmd === 'connect') s.write(connack);
            if (p.cmd === 'subscribe') s.write(Buffer.from(suback));
          }),
      );
      const c = connect(port, owner, version);
      expect((await owner.outcome(c.deviceId)).kind).toBe('connected');
      expect(c.mqtt!.subscribe(['t/#'], 1)).toBe(1);
      const [lost] = await owner.waitKind('lost', c.deviceId);
      expect(lost?.failure, `MQTT ${version}`).toEqual({
        origin: 'protocol',
        phase: 'held',
        code: 'MQTT_MALFORMED_PACKET',
      });
      expect(owner.of('subscribed', c.deviceId)).toEqual([]);
    }
  });

  it('a PUBLISH of maxPacketBytes is delivered whole; one byte more loses the session', async () => {
    const owner = new RecordingOwner();
    // Frame = 1 type byte + 2 length bytes + body: body 4,093 → 4,096 bytes, body 4,094 → 4,097.
    const publishOf = (body: number): Buffer =>
      mqtt.generate({
        cmd: 'publish',
        topic: 'big',
        payload: Buffer.alloc(body - 5, 0x62),
        qos: 0,
        dup: false,
        retain: false,
      });
    const fits = publishOf(MAX_PACKET_BYTES - 3);
    expect(fits.length).toBe(MAX_PACKET_BYTES);
    const c = connect(
      await hostile((s) => s.write(Buffer.concat([CONNACK_OK, fits, publishOf(MAX_PACKET_BYTES - 2)]))),
      owner,
    );
    const [lost] = await owner.waitKind('lost', c.deviceId);
    expect(lost?.failure).toEqual({ origin: 'protocol', phase: 'held', code: 'MQTT_PACKET_TOO_LARGE' });
    const got = owner.of('message', c.deviceId).map((e) => [e.message?.topic, e.message?.payload.length]);
    expect(got).toEqual([['big', MAX_PACKET_BYTES - 3 - 5]]);
    expect(c.bufferedBytes).toBe(0);
  });

  it('a PUBLISH whose topic length runs past the packet is malformed', async () => {
    const owner = new RecordingOwner();
    // Topic length 9, 2 bytes of topic: the packet ends first.
    const bad = Buffer.from([0x30, 0x04, 0x00, 0x09, 0x74, 0x74]);
    const c = connect(await hostile((s) => s.write(Buffer.concat([CONNACK_OK, bad]))), owner);
    const [lost] = await owner.waitKind('lost', c.deviceId);
    expect(lost?.failure).toEqual({ origin: 'protocol', phase: 'held', code: 'MQTT_MALFORMED_PACKET' });
    expect(owner.of('message', c.deviceId)).toEqual([]);
  });

  it('MQTT 5 SUBACK, PUBACK and PUBLISH with properties, every byte sent alone: read as one would read them whole', async () => {
    const owner = new RecordingOwner();
    const acked: number[] = [];
    const inbound = v5({
      cmd: 'publish',
      topic: 'down/1',
      payload: Buffer.from('payload-1'),
      qos: 1,
      messageId: 321,
      dup: false,
      retain: true,
      properties: { payloadFormatIndicator: true, userProperties: { k: 'v' } },
    });
    const port = await hostile(
      () => {},
      (s) => {
        s.setNoDelay(true);
        readClient(s, 5, (p) => {
          if (p.cmd === 'connect') void byteByByte(s, CONNACK_V5);
          else if (p.cmd === 'subscribe')
            void byteByByte(
              s,
              v5({ cmd: 'suback', messageId: p.messageId as number, granted: [1], properties: { reasonString: 'ok' } }),
            );
          else if (p.cmd === 'publish')
            void byteByByte(
              s,
              Buffer.concat([
                v5({
                  cmd: 'puback',
                  messageId: p.messageId as number,
                  reasonCode: 0x10,
                  properties: { reasonString: 'none' },
                }),
                inbound,
              ]),
            );
          else if (p.cmd === 'puback') acked.push(p.messageId as number);
        });
      },
    );
    const c = connect(port, owner, 5);
    expect((await owner.outcome(c.deviceId)).kind).toBe('connected');
    const sub = c.mqtt!.subscribe(['down/1'], 1);
    const [subscribed] = await owner.waitKind('subscribed', c.deviceId);
    expect(subscribed).toMatchObject({ packetId: sub, granted: [1] });
    const pub = c.mqtt!.publish('up/1', Buffer.from('x'), 1, false, 9);
    const [published] = await owner.waitKind('published', c.deviceId);
    expect(published).toMatchObject({ packetId: pub, qos: 1, reasonCode: 0x10, tag: 9 });
    const [m] = await owner.waitKind('message', c.deviceId);
    expect(m?.message).toMatchObject({ topic: 'down/1', qos: 1, retain: true, dup: false });
    expect(m?.message?.payload.toString()).toBe('payload-1');
    await owner.waitFor(() => acked.length === 1, 5_000, 'the PUBACK of the inbound PUBLISH');
    expect(acked).toEqual([321]);
    expect(c.state).toBe('connected');
    c.abort();
    await owner.waitKind('closed', c.deviceId);
  });

  it('one SUBSCRIBE carries every topic whole, short and long (past 1 KB together) alike', async () => {
    const owner = new RecordingOwner();
    const topics = ['a/1', `l/${'x'.repeat(1500)}`, 'b/2', `m/${'y'.repeat(700)}`, 'c/3'];
    const seen: string[][] = [];
    const port = await hostile(
      () => {},
      (s) =>
        readClient(s, 4, (p) => {
          if (p.cmd === 'connect') s.write(CONNACK_OK);
          else if (p.cmd === 'subscribe') {
            seen.push(p.subscriptions.map((x) => x.topic));
            s.write(mqtt.generate({ cmd: 'suback', messageId: p.messageId as number, granted: [1, 1, 1, 1, 1] }));
          }
        }),
    );
    const c = connect(port, owner);
    expect((await owner.outcome(c.deviceId)).kind).toBe('connected');
    const sub = c.mqtt!.subscribe(topics, 1);
    const [subscribed] = await owner.waitKind('subscribed', c.deviceId);
    expect(subscribed).toMatchObject({ packetId: sub, granted: [1, 1, 1, 1, 1] });
    expect(seen).toEqual([topics]);
    c.abort();
    await owner.waitKind('closed', c.deviceId);
  });

  it('a server that never acknowledges: QoS 1 publishes stop at the in-flight cap (64, or a lower Receive Maximum)', async () => {
    for (const [version, connack, cap] of [
      [4, CONNACK_OK, 64],
      [5, v5({ cmd: 'connack', sessionPresent: false, reasonCode: 0, properties: { receiveMaximum: 3 } }), 3],
    ] as const) {
      const owner = new RecordingOwner();
      const c = connect(await hostile((s) => s.write(connack)), owner, version);
      expect((await owner.outcome(c.deviceId)).kind).toBe('connected');
      const ids = Array.from({ length: cap + 1 }, () => c.mqtt!.publish('t', Buffer.from('x'), 1));
      expect(ids.slice(0, cap), `MQTT ${version}`).toEqual(Array.from({ length: cap }, (_, i) => i + 1));
      expect(ids[cap], `MQTT ${version}`).toBe(-1);
      expect(c.mqtt!.publish('t', Buffer.from('x'), 0), 'QoS 0 takes no packet id').toBe(0);
      c.abort();
      await owner.waitKind('closed', c.deviceId);
    }
  });

  it('a silenced session still takes publishes (their bytes vanish with the dark path), as a device would', async () => {
    const owner = new RecordingOwner();
    const c = connect(await hostile((s) => s.write(CONNACK_OK)), owner);
    expect((await owner.outcome(c.deviceId)).kind).toBe('connected');
    c.silence();
    expect(c.mqtt!.publish('t', Buffer.from('x'), 1, false, 3)).toBe(1);
    expect(c.mqtt!.publish('t', Buffer.from('x'), 0)).toBe(0);
    expect(c.state).toBe('connected');
    c.abort();
    await owner.waitKind('closed', c.deviceId);
  });

  it('inbound QoS 2: one delivery per packet id until its PUBREL; past the in-flight cap unreleased, the session is lost', async () => {
    const q2 = (id: number): Buffer =>
      mqtt.generate({
        cmd: 'publish',
        topic: 'q2',
        payload: Buffer.from([id]),
        qos: 2,
        messageId: id,
        dup: false,
        retain: false,
      });
    const pubrel = Buffer.from([0x62, 0x02, 0x00, 0x05]);
    const owner = new RecordingOwner();
    const answers: string[] = [];
    const port = await hostile(
      () => {},
      (s) =>
        readClient(s, 4, (p) => {
          if (p.cmd === 'connect') s.write(Buffer.concat([CONNACK_OK, q2(5), q2(5), pubrel, q2(5)]));
          if (p.cmd === 'pubrec' || p.cmd === 'pubcomp') answers.push(`${p.cmd} ${p.messageId}`);
        }),
    );
    const c = connect(port, owner);
    await owner.waitFor(() => answers.length === 4, 5_000, 'PUBREC ×3 and PUBCOMP');
    expect(answers).toEqual(['pubrec 5', 'pubrec 5', 'pubcomp 5', 'pubrec 5']);
    expect(owner.of('message', c.deviceId).map((e) => e.message?.qos)).toEqual([2, 2]);
    c.abort();
    await owner.waitKind('closed', c.deviceId);

    const flood = new RecordingOwner();
    const ids = Array.from({ length: 65 }, (_, i) => q2(i + 1));
    const d = connect(await hostile((s) => s.write(Buffer.concat([CONNACK_OK, ...ids]))), flood);
    const [lost] = await flood.waitKind('lost', d.deviceId);
    expect(lost?.failure).toEqual({ origin: 'protocol', phase: 'held', code: 'MQTT_RECEIVE_MAXIMUM_EXCEEDED' });
    expect(flood.of('message', d.deviceId)).toHaveLength(64);
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
