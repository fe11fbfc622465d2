/** The failure knobs of the embedded target, each against real clients on loopback. */
import * as http from 'node:http';
import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import WebSocket from 'ws';
import { spawnEmbeddedTarget, type EmbeddedTarget } from '../../src/target/spawn.js';
import { LOSS_SALT, seededShareCount } from '../../src/target/shares.js';
import { getText, rawConnect, sample, waitFor } from './target-helpers.js';

let target: EmbeddedTarget | null = null;
afterEach(async () => {
  await target?.stop();
  target = null;
});

function wsUpgradeStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on('open', () => {
      resolve(101);
      ws.close();
    });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('error', (e) => reject(e));
  });
}

describe('admission control', () => {
  it('sheds the excess with v3 code 3, v5 0x9F and WebSocket 503', async () => {
    // One token and no refill worth mentioning: the first CONNECT passes, the rest are excess.
    target = await spawnEmbeddedTarget({ admission: { ratePerS: 0.001, burst: 1, queue: 0 } });
    const held: net.Socket[] = [];
    expect(await rawConnect(target.port, { version: 4, clientId: 'a', keep: (s) => held.push(s) })).toEqual({
      kind: 'connack',
      code: 0,
    });
    expect(await rawConnect(target.port, { version: 4, clientId: 'b' })).toEqual({ kind: 'connack', code: 3 });
    expect(await rawConnect(target.port, { version: 5, clientId: 'c' })).toEqual({ kind: 'connack', code: 0x9f });
    expect(await wsUpgradeStatus(target.processes[0]!.endpoints.ws)).toBe(503);
    const page = await getText(target.metricsUrl);
    expect(sample(page, 'herd_target_refusals_total', { reason: 'rate_exceeded' })).toBe(3);
    for (const s of held) s.destroy();
  });

  it('a CONNECT that waits in the queue past queueTimeoutMs is refused as server busy (0x89)', async () => {
    target = await spawnEmbeddedTarget({ admission: { ratePerS: 0.001, burst: 1, queue: 5, queueTimeoutMs: 300 } });
    const held: net.Socket[] = [];
    expect(await rawConnect(target.port, { version: 5, clientId: 'first', keep: (s) => held.push(s) })).toEqual({
      kind: 'connack',
      code: 0,
    });
    expect(await rawConnect(target.port, { version: 5, clientId: 'waits' })).toEqual({ kind: 'connack', code: 0x89 });
    expect(await rawConnect(target.port, { version: 4, clientId: 'waits-too' })).toEqual({ kind: 'connack', code: 3 });
    expect(sample(await getText(target.metricsUrl), 'herd_target_refusals_total', { reason: 'server_busy' })).toBe(2);
    for (const s of held) s.destroy();
  });

  it('a queued CONNECT is admitted when a token arrives', async () => {
    target = await spawnEmbeddedTarget({ admission: { ratePerS: 5, burst: 1, queue: 5, queueTimeoutMs: 5_000 } });
    const held: net.Socket[] = [];
    const outcomes = await Promise.all(
      [0, 1, 2].map((i) => rawConnect(target!.port, { version: 4, clientId: `q${i}`, keep: (s) => held.push(s) })),
    );
    expect(outcomes).toEqual([0, 1, 2].map(() => ({ kind: 'connack', code: 0 })));
    for (const s of held) s.destroy();
  });
});

describe('maxConnections', () => {
  it('accepts and closes connections beyond the cap, before any CONNACK', async () => {
    target = await spawnEmbeddedTarget({ maxConnections: 2 });
    const held: net.Socket[] = [];
    for (const id of ['m1', 'm2'])
      expect(await rawConnect(target.port, { version: 4, clientId: id, keep: (s) => held.push(s) })).toEqual({
        kind: 'connack',
        code: 0,
      });
    const third = await rawConnect(target.port, { version: 4, clientId: 'm3' });
    expect(['closed', 'reset']).toContain(third.kind);
    expect(sample(await getText(target.metricsUrl), 'herd_target_refusals_total', { reason: 'max_connections' })).toBe(
      1,
    );
    // A slot freed is a slot usable again.
    held.pop()!.destroy();
    await waitFor(
      async () => sample(await getText(target!.metricsUrl), 'herd_target_connections', { listener: 'mqtt' }) === 1,
    );
    expect(await rawConnect(target.port, { version: 4, clientId: 'm4', keep: (s) => held.push(s) })).toEqual({
      kind: 'connack',
      code: 0,
    });
    for (const s of held) s.destroy();
  });
});

describe('outages', () => {
  it('drops open connections at T, refuses new ones during D, then accepts again', async () => {
    target = await spawnEmbeddedTarget({ outages: [{ at: '600ms', duration: '1s', mode: 'reset' }] });
    target.setOrigin(process.hrtime.bigint());
    const t0 = Date.now();
    const dropped: string[] = [];
    const held: net.Socket[] = [];
    for (const id of ['o1', 'o2']) {
      await rawConnect(target.port, {
        version: 4,
        clientId: id,
        keep: (s) => {
          held.push(s);
          s.on('error', (e: NodeJS.ErrnoException) => dropped.push(e.code ?? 'error'));
        },
      });
    }
    await waitFor(() => dropped.length === 2, 5_000, 'both connections dropped');
    expect(dropped).toEqual(['ECONNRESET', 'ECONNRESET']);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(500);
    const during = await rawConnect(target.port, { version: 4, clientId: 'during' });
    expect(during.kind).toBe('reset');
    const page = await getText(target.metricsUrl);
    expect(sample(page, 'herd_target_outages_active')).toBe(1);
    expect(sample(page, 'herd_target_outage_drops_total')).toBe(2);
    await waitFor(
      async () => sample(await getText(target!.metricsUrl), 'herd_target_outages_active') === 0,
      5_000,
      'outage end',
    );
    expect(await rawConnect(target.port, { version: 4, clientId: 'after' })).toEqual({ kind: 'connack', code: 0 });
  });

  it('drops exactly the given share of open connections', async () => {
    target = await spawnEmbeddedTarget({ outages: [{ at: '800ms', duration: '200ms', share: 0.5, mode: 'close' }] });
    target.setOrigin(process.hrtime.bigint());
    const closed: number[] = [];
    const held: net.Socket[] = [];
    for (let i = 0; i < 6; i++) {
      await rawConnect(target.port, {
        version: 4,
        clientId: `s${i}`,
        keep: (s) => {
          held.push(s);
          s.on('end', () => closed.push(i));
        },
      });
    }
    await waitFor(
      async () => sample(await getText(target!.metricsUrl), 'herd_target_outage_drops_total') === 3,
      5_000,
      'drops',
    );
    await waitFor(() => closed.length === 3, 5_000, 'three FINs');
    for (const s of held) s.destroy();
  });
});

describe('silent outage', () => {
  it('stops answering open connections and leaves new ones unanswered, then resets them when it ends', async () => {
    target = await spawnEmbeddedTarget({ outages: [{ at: '700ms', duration: '1500ms', mode: 'silent' }] });
    target.setOrigin(process.hrtime.bigint());
    let sock: net.Socket | null = null;
    await rawConnect(target.port, { version: 4, clientId: 'quiet', keep: (s) => (sock = s) });
    const s = sock as unknown as net.Socket;
    let pingresps = 0;
    let reset = false;
    s.on('data', (d: Buffer) => {
      if (d[0] === 0xd0) pingresps++;
    });
    s.on('error', () => (reset = true));
    s.write(Buffer.from([0xc0, 0x00]));
    await waitFor(() => pingresps === 1, 2_000, 'PINGRESP before the outage');
    await waitFor(
      async () => sample(await getText(target!.metricsUrl), 'herd_target_outages_active') === 1,
      3_000,
      'outage start',
    );
    s.write(Buffer.from([0xc0, 0x00]));
    expect((await rawConnect(target.port, { version: 4, clientId: 'unanswered', timeoutMs: 400 })).kind).toBe(
      'timeout',
    );
    expect(pingresps).toBe(1);
    await waitFor(() => reset, 5_000, 'reset at the end of the outage');
  });
});

describe('message loss', () => {
  it('silently drops a deterministic share of deliveries while the publisher gets every PUBACK', async () => {
    const rate = 0.3;
    const seed = 7;
    const n = 200;
    target = await spawnEmbeddedTarget({ messageLossRate: rate, lossSeed: seed });
    const sub = await mqtt.connectAsync(target.url, { reconnectPeriod: 0, clientId: 'loss-sub' });
    const pub = await mqtt.connectAsync(target.url, { reconnectPeriod: 0, clientId: 'loss-pub' });
    let received = 0;
    sub.on('message', () => received++);
    await sub.subscribeAsync('loss/#', { qos: 1 });
    for (let i = 0; i < n; i++) await pub.publishAsync(`loss/${i}`, String(i), { qos: 1 });
    const expectedDropped = seededShareCount(rate, seed, LOSS_SALT.delivery, n);
    await waitFor(
      async () => sample(await getText(target!.metricsUrl), 'herd_target_deliveries_dropped_total') === expectedDropped,
      5_000,
      'drops',
    );
    await waitFor(() => received === n - expectedDropped, 5_000, 'deliveries');
    expect(expectedDropped).toBeGreaterThan(0);
    expect(sample(await getText(target.metricsUrl), 'herd_target_publishes_received_total')).toBe(n);
    await Promise.all([sub.endAsync(), pub.endAsync()]);
  });
});

describe('webhook forwarding', () => {
  it('POSTs each received publish (topic + base64 payload) to a loopback URL, minus a deterministic loss share', async () => {
    const bodies: Array<{ topic: string; payload: string; clientId: string }> = [];
    const sink = http.createServer((req, res) => {
      let b = '';
      req.on('data', (d: Buffer) => (b += d.toString()));
      req.on('end', () => {
        bodies.push(JSON.parse(b) as { topic: string; payload: string; clientId: string });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
    const port = (sink.address() as net.AddressInfo).port;
    const n = 40;
    target = await spawnEmbeddedTarget({
      webhook: { url: `http://127.0.0.1:${port}/hook`, lossRate: 0.25 },
      lossSeed: 3,
    });
    const pub = await mqtt.connectAsync(target.url, { reconnectPeriod: 0, clientId: 'hook-pub' });
    for (let i = 0; i < n; i++) await pub.publishAsync(`hook/${i}`, `m${i}`, { qos: 1 });
    const lost = seededShareCount(0.25, 3, LOSS_SALT.webhook, n);
    await waitFor(() => bodies.length === n - lost, 5_000, 'webhook posts');
    const first = bodies.find((b) => b.topic === 'hook/0' || b.topic.startsWith('hook/'))!;
    expect(Buffer.from(first.payload, 'base64').toString()).toBe(`m${first.topic.split('/')[1]}`);
    expect(first.clientId).toBe('hook-pub');
    const page = await getText(target.metricsUrl);
    expect(sample(page, 'herd_target_webhook_posts_total', { result: 'ok' })).toBe(n - lost);
    expect(sample(page, 'herd_target_webhook_posts_total', { result: 'lost' })).toBe(lost);
    await pub.endAsync();
    sink.close();
  });

  // The address below is only ever refused, never contacted: that is what this test proves.
  it('refuses a webhook URL that is not on loopback', async () => {
    await expect(spawnEmbeddedTarget({ webhook: { url: 'http://10.0.0.1/hook' } })).rejects.toMatchObject({
      code: 'E_SCENARIO_INVALID',
      details: [expect.stringContaining('target.embedded.webhook.url')],
    });
  });
});
