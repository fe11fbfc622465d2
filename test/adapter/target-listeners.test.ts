/** Every listener of the embedded target accepts a real client on loopback. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import WebSocket from 'ws';
import { spawnEmbeddedTarget, type EmbeddedTarget } from '../../src/target/spawn.js';
import { ROOT } from '../helpers/cli.js';
import { rawConnect } from './target-helpers.js';

const TLS_DIR = join(ROOT, 'fixtures', 'tls');
const ca = readFileSync(join(TLS_DIR, 'ca.crt'));

async function mqttRoundTrip(url: string, extra: mqtt.IClientOptions = {}): Promise<string> {
  const client = await mqtt.connectAsync(url, {
    reconnectPeriod: 0,
    connectTimeout: 5_000,
    clientId: `t-${Math.random()}`,
    ca,
    ...extra,
  });
  try {
    const got = new Promise<string>((resolve) => client.on('message', (_t, p) => resolve(p.toString())));
    await client.subscribeAsync('herd/test', { qos: 1 });
    await client.publishAsync('herd/test', 'hello', { qos: 1 });
    return await got;
  } finally {
    await client.endAsync();
  }
}

function wsHello(url: string): Promise<{ reply: unknown; pong: boolean }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { ca });
    let pong = false;
    ws.on('open', () => ws.ping());
    ws.on('pong', () => {
      pong = true;
      ws.send(JSON.stringify({ type: 'hello', id: 'dev-1' }));
    });
    ws.on('message', (d) => {
      resolve({ reply: JSON.parse(d.toString()), pong });
      ws.close();
    });
    ws.on('error', reject);
  });
}

describe('embedded target listeners', () => {
  let target: EmbeddedTarget;
  beforeAll(async () => {
    target = await spawnEmbeddedTarget({ tls: true });
  });
  afterAll(async () => {
    await target?.stop();
  });

  it('keeps url/host/port pointing at the first MQTT TCP listener', () => {
    expect(target.url).toBe(`mqtt://127.0.0.1:${target.port}`);
    expect(target.host).toBe('127.0.0.1');
    expect(target.endpoints.map((e) => e.kind).sort()).toEqual(['mqtt', 'mqttWs', 'mqttWss', 'mqtts', 'ws', 'wss']);
  });

  it('MQTT over TCP, TLS, WebSocket and secure WebSocket all carry a publish', async () => {
    const p = target.processes[0]!.endpoints;
    expect(await mqttRoundTrip(p.mqtt)).toBe('hello');
    expect(await mqttRoundTrip(p.mqtts!, { servername: 'localhost' })).toBe('hello');
    expect(await mqttRoundTrip(p.mqttWs)).toBe('hello');
    expect(await mqttRoundTrip(p.mqttWss!)).toBe('hello');
  });

  it('the plain WebSocket endpoint answers ping with pong and hello with hello-ack, on ws and wss', async () => {
    const p = target.processes[0]!.endpoints;
    expect(await wsHello(p.ws)).toEqual({ reply: { type: 'hello-ack', id: 'dev-1' }, pong: true });
    expect(await wsHello(p.wss!)).toEqual({ reply: { type: 'hello-ack', id: 'dev-1' }, pong: true });
  });

  it('speaks MQTT 5 end to end through the bridge in front of aedes (ADR 0005), on every listener', async () => {
    expect(await rawConnect(target.port, { version: 5, clientId: 'v5' })).toEqual({ kind: 'connack', code: 0 });
    const p = target.processes[0]!.endpoints;
    for (const url of [p.mqtt, p.mqtts!, p.mqttWs, p.mqttWss!]) {
      expect(await mqttRoundTrip(url, { protocolVersion: 5, servername: 'localhost' }), url).toBe('hello');
    }
  });
});

describe('embedded target with mTLS', () => {
  let target: EmbeddedTarget;
  beforeAll(async () => {
    target = await spawnEmbeddedTarget({ tls: true, mtls: true });
  });
  afterAll(async () => {
    await target?.stop();
  });

  it('accepts a device certificate signed by the test CA and rejects a client without one', async () => {
    const url = target.processes[0]!.endpoints.mqtts!;
    const cert = readFileSync(join(TLS_DIR, 'clients', 'device-0.crt'));
    const key = readFileSync(join(TLS_DIR, 'clients', 'device-0.key'));
    expect(await mqttRoundTrip(url, { cert, key, servername: 'localhost' })).toBe('hello');
    await expect(
      mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 3_000, ca, servername: 'localhost' }),
    ).rejects.toThrow();
  });
});
