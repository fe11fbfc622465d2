/**
 * The embedded target as a cloud that pushes back (issue 16): MQTT 5 sessions through the bridge,
 * account-wide and per-client-id CONNECT limits, per-connection publish throttling (QoS 0
 * dropped, PUBACK withheld, or DISCONNECT 0x96), duplicate client-id takeover (DISCONNECT 0x8E),
 * Server Keep Alive, and the aws-like profile. Real raw clients on loopback, exact counts.
 */
import * as net from 'node:net';
import * as mqtt from 'mqtt-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnEmbeddedTarget, type EmbeddedTarget } from '../../src/target/spawn.js';
import { parseTargetOptions } from '../../src/target/options.js';
import { getText, rawConnect, sample, waitFor } from './target-helpers.js';

let target: EmbeddedTarget | null = null;
const open: net.Socket[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) s.destroy();
  await target?.stop();
  target = null;
});

/** A raw client that records every packet it gets, for exact assertions. */
async function client(
  port: number,
  version: 4 | 5,
  clientId: string,
  keepalive = 60,
): Promise<{ sock: net.Socket; packets: mqtt.Packet[]; send(p: mqtt.Packet): void; closed: Promise<void> }> {
  const sock = net.connect({ host: '127.0.0.1', port });
  open.push(sock);
  const packets: mqtt.Packet[] = [];
  const parser = mqtt.parser({ protocolVersion: version });
  parser.on('packet', (p: mqtt.Packet) => packets.push(p));
  sock.on('data', (d) => parser.parse(d));
  sock.on('error', () => {});
  const closed = new Promise<void>((r) => sock.once('close', () => r()));
  await new Promise<void>((r) => sock.once('connect', () => r()));
  const send = (p: mqtt.Packet): void => void sock.write(mqtt.generate(p, { protocolVersion: version }));
  send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: version, clientId, clean: true, keepalive });
  await waitFor(() => packets.some((p) => p.cmd === 'connack'), 5_000, `CONNACK for ${clientId}`);
  return { sock, packets, send, closed };
}

describe('MQTT 5 on the embedded target', () => {
  it('a v5 client subscribes, publishes QoS 1 and gets its PUBACK and its own message back', async () => {
    target = await spawnEmbeddedTarget({});
    const c = await client(target.port, 5, 'v5-a');
    expect(c.packets[0]).toMatchObject({ cmd: 'connack', reasonCode: 0 });
    c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 't/v5', qos: 1 }] });
    await waitFor(() => c.packets.some((p) => p.cmd === 'suback'));
    c.send({
      cmd: 'publish',
      topic: 't/v5',
      payload: Buffer.from('x'),
      qos: 1,
      messageId: 2,
      retain: false,
      dup: false,
    });
    await waitFor(() => c.packets.some((p) => p.cmd === 'puback') && c.packets.some((p) => p.cmd === 'publish'));
    expect(c.packets.find((p) => p.cmd === 'suback')).toMatchObject({ granted: [1] });
    expect(c.packets.find((p) => p.cmd === 'publish')).toMatchObject({ topic: 't/v5', qos: 1 });
  });

  it('a second connection with the same client id takes over: the first gets DISCONNECT 0x8E, counted', async () => {
    target = await spawnEmbeddedTarget({});
    const first = await client(target.port, 5, 'dup');
    const second = await client(target.port, 5, 'dup');
    await first.closed;
    expect(first.packets.map((p) => p.cmd)).toEqual(['connack', 'disconnect']);
    expect(first.packets[1]).toMatchObject({ reasonCode: 0x8e });
    expect(second.packets[0]).toMatchObject({ cmd: 'connack', reasonCode: 0 });
    const page = await getText(target.metricsUrl);
    expect(sample(page, 'herd_target_takeovers_total')).toBe(1);
    expect(sample(page, 'herd_target_server_disconnects_total', { reason: '0x8e' })).toBe(1);
  });

  it('keepaliveMaxS: a longer keepalive is cut and the v5 client told so in CONNACK Server Keep Alive', async () => {
    target = await spawnEmbeddedTarget({ throttle: { keepaliveMaxS: 5 } });
    const long = await client(target.port, 5, 'ka-long', 60);
    const short = await client(target.port, 5, 'ka-short', 3);
    expect(long.packets[0]).toMatchObject({ cmd: 'connack', reasonCode: 0, properties: { serverKeepAlive: 5 } });
    expect((short.packets[0] as mqtt.IConnackPacket).properties?.serverKeepAlive).toBeUndefined();
  });
});

describe('CONNECT limits', () => {
  it('per client id: a second CONNECT with the same id within 1/rate is refused 0x9F / code 3', async () => {
    target = await spawnEmbeddedTarget({ throttle: { clientConnectsPerS: 0.01 } });
    const held: net.Socket[] = [];
    expect(await rawConnect(target.port, { version: 5, clientId: 'same', keep: (s) => held.push(s) })).toEqual({
      kind: 'connack',
      code: 0,
    });
    expect(await rawConnect(target.port, { version: 5, clientId: 'same' })).toEqual({ kind: 'connack', code: 0x9f });
    expect(await rawConnect(target.port, { version: 4, clientId: 'same' })).toEqual({ kind: 'connack', code: 3 });
    expect(await rawConnect(target.port, { version: 4, clientId: 'other', keep: (s) => held.push(s) })).toEqual({
      kind: 'connack',
      code: 0,
    });
    expect(
      sample(await getText(target.metricsUrl), 'herd_target_refusals_total', { reason: 'client_connect_rate' }),
    ).toBe(2);
    open.push(...held);
  });

  it('account-wide: past connectsPerS (a one-second bucket) CONNECTs are refused', async () => {
    target = await spawnEmbeddedTarget({ throttle: { connectsPerS: 2 } });
    const held: net.Socket[] = [];
    const codes: number[] = [];
    for (const id of ['a1', 'a2', 'a3']) {
      const o = await rawConnect(target.port, { version: 5, clientId: id, keep: (s) => held.push(s) });
      codes.push(o.kind === 'connack' ? o.code : -1);
    }
    // Two tokens at start; the third CONNECT comes well under 500 ms later on loopback.
    expect(codes).toEqual([0, 0, 0x9f]);
    expect(sample(await getText(target.metricsUrl), 'herd_target_refusals_total', { reason: 'connect_rate' })).toBe(1);
    open.push(...held);
  });
});

describe('publish throttling', () => {
  it('drop: QoS 0 over the rate is dropped and QoS 1 never acknowledged (3.1.1 client, bridged)', async () => {
    target = await spawnEmbeddedTarget({ throttle: { publishesPerS: 0.001 } });
    const c = await client(target.port, 4, 'pub-drop');
    c.send({
      cmd: 'publish',
      topic: 't/p',
      payload: Buffer.from('1'),
      qos: 1,
      messageId: 1,
      retain: false,
      dup: false,
    });
    await waitFor(() => c.packets.some((p) => p.cmd === 'puback'));
    c.send({ cmd: 'publish', topic: 't/p', payload: Buffer.from('2'), qos: 0, retain: false, dup: false });
    c.send({
      cmd: 'publish',
      topic: 't/p',
      payload: Buffer.from('3'),
      qos: 1,
      messageId: 3,
      retain: false,
      dup: false,
    });
    c.send({ cmd: 'pingreq' });
    await waitFor(() => c.packets.some((p) => p.cmd === 'pingresp'));
    expect(c.packets.map((p) => p.cmd)).toEqual(['connack', 'puback', 'pingresp']);
    const page = await getText(target.metricsUrl);
    expect(sample(page, 'herd_target_publishes_throttled_total')).toBe(2);
    expect(sample(page, 'herd_target_pubacks_withheld_total')).toBe(1);
    expect(sample(page, 'herd_target_publishes_received_total')).toBe(1);
  });

  it('disconnect: an MQTT 5 client over the rate gets DISCONNECT 0x96 "message rate too high"', async () => {
    target = await spawnEmbeddedTarget({ throttle: { publishesPerS: 0.001, publishThrottle: 'disconnect' } });
    const c = await client(target.port, 5, 'pub-dc');
    c.send({ cmd: 'publish', topic: 't/p', payload: Buffer.from('1'), qos: 0, retain: false, dup: false });
    c.send({ cmd: 'publish', topic: 't/p', payload: Buffer.from('2'), qos: 0, retain: false, dup: false });
    await c.closed;
    expect(c.packets.map((p) => p.cmd)).toEqual(['connack', 'disconnect']);
    expect(c.packets[1]).toMatchObject({ reasonCode: 0x96 });
  });
});

describe('the aws-like profile', () => {
  it("sets AWS IoT Core's published limits", () => {
    expect(parseTargetOptions({ profile: 'aws-like' }).throttle).toEqual({
      connectsPerS: 500,
      clientConnectsPerS: 1,
      publishesPerS: 100,
      publishThrottle: 'drop',
      keepaliveMaxS: 1200,
    });
  });
});
