/**
 * The webhook sink against real HTTP POSTs on loopback (port 0): forwards matched by device id and
 * sequence, lost counted against the devices' own sent counts, and every kind of bad request
 * counted rather than thrown.
 */
import * as http from 'node:http';
import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { monotonicNowNs } from '../../src/util/clock.js';
import { classifyForwardBody, WebhookSink } from '../../src/run/webhook-sink.js';
import { mergeWebhookResults } from '../../src/run/outcome-merge.js';
import { HerdError } from '../../src/errors.js';
import { encodePayload } from '../../src/protocols/payload.js';
import { emptySnapshot } from '../../src/target/metrics.js';
import { LOSS_SALT, seededShareCount } from '../../src/target/shares.js';
import { WebhookForwarder } from '../../src/target/webhook.js';

const sinks: WebhookSink[] = [];
afterEach(async () => {
  for (const s of sinks.splice(0)) await s.close();
});

async function startSink(o: { maxBodyBytes?: number; maxConnections?: number } = {}): Promise<WebhookSink> {
  const s = await WebhookSink.start('127.0.0.1', 0, o);
  sinks.push(s);
  return s;
}

function forwardBody(deviceId: number, seq: number, sentUs: number): string {
  return JSON.stringify({
    topic: `herd/r/${deviceId}`,
    payload: encodePayload({ deviceId, seq, sentUs }, 64).toString('base64'),
    qos: 1,
    retain: false,
    clientId: `d${deviceId}`,
  });
}

function post(url: string, body: string | Buffer, method = 'POST'): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent: false, headers: { 'content-type': 'application/json' } });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('classifyForwardBody', () => {
  it('tells stamped, foreign and malformed bodies apart', () => {
    expect(classifyForwardBody(Buffer.from(forwardBody(7, 3, 1500)))).toEqual({
      kind: 'stamped',
      stamp: { deviceId: 7, seq: 3, sentUs: 1500 },
    });
    expect(
      classifyForwardBody(
        Buffer.from(JSON.stringify({ payload: Buffer.from('hello world, not herd').toString('base64') })),
      ),
    ).toEqual({ kind: 'foreign' });
    for (const bad of [
      '{',
      '[]',
      'null',
      '{"topic":"t"}',
      '{"payload":42}',
      '{"payload":"@@@@"}',
      '{"payload":"abc"}',
      '\u0000\u0001',
    ]) {
      expect(classifyForwardBody(Buffer.from(bad)), bad).toEqual({ kind: 'malformed' });
    }
  });
});

describe('WebhookSink', () => {
  it('matches forwards by device and sequence and counts lost against the sent counts', async () => {
    const sink = await startSink();
    expect(sink.port).toBeGreaterThan(0);
    expect(sink.url).toBe(`http://127.0.0.1:${sink.port}/hook`);
    const origin = monotonicNowNs();
    sink.setOrigin(origin);
    // Device 1 sent 0..4: 2 is never forwarded, 3 arrives after 4 and twice. Device 2 sent 0..2, all forwarded.
    const arrivals: [number, number][] = [
      [1, 0],
      [1, 1],
      [1, 4],
      [1, 3],
      [1, 3],
      [2, 0],
      [2, 1],
      [2, 2],
    ];
    for (const [dev, seq] of arrivals) expect(await post(sink.url, forwardBody(dev, seq, -1000))).toBe(204);
    await sink.settle(0, 1000);
    const r = sink.result({ '1': 5, '2': 3 });
    expect(r).toMatchObject({
      sent: 8,
      received: 8,
      delivered: 7,
      lost: 1,
      duplicated: 1,
      outOfOrder: 1,
      tooLate: 0,
      foreign: 0,
      malformed: 0,
      rejected: 0,
    });
    expect(r.lossRate).toBeCloseTo(1 / 8, 12);
    // Stamped 1 ms before the origin, received after it: every latency is at least 1 ms.
    expect(r.latency?.count).toBe(7);
    expect(r.latency?.minUs).toBeGreaterThanOrEqual(1000);
    // A device that sent but was never forwarded is lost entirely.
    expect(sink.result({ '1': 5, '2': 3, '3': 4 })).toMatchObject({ sent: 12, delivered: 7, lost: 5 });
  });

  it('counts malformed, foreign and refused requests without failing', async () => {
    const sink = await startSink({ maxBodyBytes: 4096 });
    sink.setOrigin(monotonicNowNs());
    expect(await post(sink.url, '{not json')).toBe(400);
    expect(await post(sink.url, JSON.stringify({ payload: 'not base64!' }))).toBe(400);
    expect(
      await post(sink.url, JSON.stringify({ topic: 't', payload: Buffer.from('someone else').toString('base64') })),
    ).toBe(204);
    expect(await post(sink.url, '', 'GET')).toBe(405);
    expect(await post(sink.url, JSON.stringify({ payload: 'A'.repeat(8192) }))).toBe(413);
    // Still answering after all that.
    expect(await post(sink.url, forwardBody(9, 0, 0))).toBe(204);
    const r = sink.result({ '9': 1 });
    expect(r).toMatchObject({ sent: 1, delivered: 1, lost: 0, foreign: 1, malformed: 2, rejected: 2 });
  });

  it('refuses a body streamed past the cap without a declared length', async () => {
    const sink = await startSink({ maxBodyBytes: 1024 });
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(sink.url, { method: 'POST', agent: false, headers: { 'transfer-encoding': 'chunked' } });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      // The sink closes the connection after its 413; writes after that may fail.
      req.on('error', () => {});
      for (let i = 0; i < 8; i++) req.write('x'.repeat(512));
      req.end();
      setTimeout(() => reject(new Error('no response')), 5000).unref();
    });
    expect(status).toBe(413);
    expect(sink.result({})).toMatchObject({ rejected: 1, malformed: 0, delivered: 0 });
  });

  it('counts forwards arriving before the run origin as foreign', async () => {
    const sink = await startSink();
    expect(await post(sink.url, forwardBody(1, 0, 0))).toBe(204);
    expect(sink.result({ '1': 1 })).toMatchObject({ delivered: 0, lost: 1, foreign: 1 });
  });

  it('caps concurrent connections', async () => {
    const sink = await startSink({ maxConnections: 2 });
    const held: net.Socket[] = [];
    const open = (): Promise<net.Socket> =>
      new Promise((resolve, reject) => {
        const s = net.connect({ host: '127.0.0.1', port: sink.port }, () => resolve(s));
        s.on('error', reject);
        held.push(s);
      });
    await open();
    await open();
    const third = await open();
    const closed = await new Promise<boolean>((resolve) => {
      third.on('close', () => resolve(true));
      setTimeout(() => resolve(false), 5000).unref();
    });
    expect(closed).toBe(true);
    for (const s of held) s.destroy();
    expect(sink.result({}).rejected).toBe(1);
  });

  it('catches exactly the forwards the embedded target drops on purpose', async () => {
    const sink = await startSink();
    sink.setOrigin(monotonicNowNs());
    const metrics = emptySnapshot(0, process.pid);
    const fwd = new WebhookForwarder({ url: sink.url, lossRate: 0.05, maxInFlight: 16, maxQueue: 100_000 }, 7, metrics);
    const sent: Record<string, number> = {};
    const devices = 20;
    const perDevice = 50;
    for (let seq = 0; seq < perDevice; seq++) {
      for (let d = 0; d < devices; d++) {
        fwd.forward({
          topic: `herd/r/${d}`,
          payload: encodePayload({ deviceId: d, seq, sentUs: 0 }, 32),
          qos: 1,
          retain: false,
          clientId: `d${d}`,
        });
        sent[String(d)] = (sent[String(d)] ?? 0) + 1;
      }
    }
    const total = devices * perDevice;
    const expectedLost = seededShareCount(0.05, 7, LOSS_SALT.webhook, total);
    const deadline = Date.now() + 20_000;
    while (
      metrics.webhookPostsTotal.ok + metrics.webhookPostsTotal.failed < total - expectedLost &&
      Date.now() < deadline
    ) {
      await new Promise((r) => setTimeout(r, 20));
    }
    fwd.close();
    const r = sink.result(sent);
    expect(metrics.webhookPostsTotal.failed).toBe(0);
    expect(expectedLost).toBeGreaterThan(0);
    expect(r.sent).toBe(total);
    expect(r.lost).toBe(expectedLost);
    expect(r.delivered + r.lost).toBe(r.sent);
    expect(r.duplicated).toBe(0);
    expect(r.latency?.count).toBe(r.delivered);
  });

  it('names the flag when it cannot listen', async () => {
    const first = await startSink();
    const err = await WebhookSink.start('127.0.0.1', first.port).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HerdError);
    expect((err as HerdError).code).toBe('E_FLAG');
    expect((err as HerdError).message).toContain('--webhook-sink');
    expect((err as HerdError).message).toContain('EADDRINUSE');
  });
});

describe('mergeWebhookResults', () => {
  it('adds shards and merges their latency exactly', async () => {
    const a = await startSink();
    const b = await startSink();
    for (const s of [a, b]) s.setOrigin(monotonicNowNs());
    await post(a.url, forwardBody(1, 0, 0));
    await post(b.url, forwardBody(2, 0, 0));
    await post(b.url, forwardBody(2, 1, 0));
    const ra = a.result({ '1': 2 });
    const rb = b.result({ '2': 2 });
    const m = mergeWebhookResults([ra, null, rb]);
    expect(m).toMatchObject({ sent: 4, delivered: 3, lost: 1, received: 3, lossRate: 0.25 });
    expect(m?.latency?.count).toBe(3);
    expect(mergeWebhookResults([null, undefined])).toBeNull();
  });
});
