/**
 * The webhook sink (`herd run --webhook-sink [host:]PORT`): an HTTP receiver in the coordinator
 * that counts the messages a device cloud forwards onward (its integrations path). Each POST body
 * is the forward JSON `{"topic": "...", "payload": "<base64>", ...}` (src/target/webhook.ts); the
 * payload carries herd's stamp (device id, sequence, send time), so forwards are matched per
 * publisher with the same DeliveryTracker as end-to-end delivery. "sent" comes from the devices'
 * own counts, not from what arrived, so a cloud that silently drops forwards is caught.
 *
 * Bounded: body size and concurrent connections are capped, slow clients are timed out, and a
 * body that is not a forward is counted `malformed`, never thrown.
 */
import * as http from 'node:http';
import { HerdError } from '../errors.js';
import { DeliveryTracker } from '../metrics/delivery.js';
import { summarize } from '../metrics/histogram.js';
import { decodePayload, type PayloadStamp } from '../protocols/payload.js';
import type { WebhookResult } from '../results/types.js';
import { clockFromOrigin, type RunClock } from '../util/clock.js';

/** A 256 KiB payload (the scenario maximum) is ~350 KiB in base64, plus the JSON around it. */
export const WEBHOOK_MAX_BODY_BYTES = 512 * 1024;
export const WEBHOOK_MAX_CONNECTIONS = 1024;
/** Slow or stalled senders cannot hold a connection slot for long. */
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000;
/** Longer than any sender's idle gap in a run, so a keep-alive sender never reuses a socket the sink just closed. */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

export interface WebhookSinkOptions {
  maxBodyBytes?: number;
  maxConnections?: number;
}

export type ForwardBody = { kind: 'stamped'; stamp: PayloadStamp } | { kind: 'foreign' } | { kind: 'malformed' };

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** What one POST body is (pure). Only `payload` is required of the forward JSON. */
export function classifyForwardBody(body: Buffer): ForwardBody {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return { kind: 'malformed' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { kind: 'malformed' };
  const payload = (parsed as { payload?: unknown }).payload;
  if (typeof payload !== 'string' || payload.length % 4 !== 0 || !BASE64.test(payload)) return { kind: 'malformed' };
  const stamp = decodePayload(Buffer.from(payload, 'base64'));
  return stamp === null ? { kind: 'foreign' } : { kind: 'stamped', stamp };
}

/** The devices' own sent counts per publisher (stream key = device id), merged over cohorts. */
export function sentFromDelivery(delivery: ReadonlyMap<string, DeliveryTracker>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of delivery.values()) for (const [k, n] of Object.entries(t.toJSON().sent)) out[k] = (out[k] ?? 0) + n;
  return out;
}

/** The sink's counts as results.json holds them, given the devices' sent counts (pure). */
export function webhookResult(
  tracker: DeliveryTracker,
  sent: Readonly<Record<string, number>>,
  malformed: number,
  rejected: number,
): WebhookResult {
  const t = DeliveryTracker.fromJSON(tracker.toJSON());
  for (const [k, n] of Object.entries(sent)) t.recordSent(k, n);
  const s = t.summary();
  const h = t.latencyHistogram();
  return {
    sent: s.sent,
    received: s.delivered + s.duplicated + s.tooLate,
    delivered: s.delivered,
    lost: s.lost,
    duplicated: s.duplicated,
    outOfOrder: s.outOfOrder,
    tooLate: s.tooLate,
    foreign: s.foreign,
    malformed,
    rejected,
    lossRate: s.sent === 0 ? 0 : s.lost / s.sent,
    latency: h === null || h.totalCount === 0 ? null : summarize(h),
  };
}

export class WebhookSink {
  readonly url: string;
  readonly port: number;
  private readonly server: http.Server;
  private readonly maxBodyBytes: number;
  private readonly tracker = new DeliveryTracker();
  private clock: RunClock | null = null;
  private malformed = 0;
  private rejected = 0;
  /** Requests whose body is still arriving, and when the last one started or ended (for settle). */
  private open = 0;
  private lastActivityMs = 0;

  private constructor(server: http.Server, host: string, port: number, maxBodyBytes: number) {
    this.server = server;
    this.port = port;
    this.maxBodyBytes = maxBodyBytes;
    this.url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/hook`;
  }

  static async start(host: string, port: number, o: WebhookSinkOptions = {}): Promise<WebhookSink> {
    const server = http.createServer();
    server.maxConnections = o.maxConnections ?? WEBHOOK_MAX_CONNECTIONS;
    server.headersTimeout = HEADERS_TIMEOUT_MS;
    server.requestTimeout = REQUEST_TIMEOUT_MS;
    server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          new HerdError('E_FLAG', `--webhook-sink: cannot listen on ${host}:${port} (${err.code ?? err.message})`),
        ),
      );
      server.listen({ host, port }, () => resolve());
    });
    const sink = new WebhookSink(
      server,
      host,
      (server.address() as { port: number }).port,
      o.maxBodyBytes ?? WEBHOOK_MAX_BODY_BYTES,
    );
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => sink.onRequest(req, res));
    // Connections over maxConnections are closed by Node before any request: count them.
    server.on('drop', () => sink.rejected++);
    server.on('clientError', (_err: Error, socket: { destroy(): void }) => socket.destroy());
    return sink;
  }

  /** The run origin: stamps are µs since it, on the same monotonic clock. */
  setOrigin(originNs: bigint): void {
    this.clock = clockFromOrigin(originNs);
  }

  /** Waits (bounded) until no body is arriving and nothing has arrived for quietMs. */
  async settle(quietMs = 300, maxMs = 3_000): Promise<void> {
    const deadline = Date.now() + maxMs;
    while (Date.now() < deadline && (this.open > 0 || Date.now() - this.lastActivityMs < quietMs)) {
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  result(sent: Readonly<Record<string, number>>): WebhookResult {
    return webhookResult(this.tracker, sent, this.malformed, this.rejected);
  }

  close(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.lastActivityMs = Date.now();
    if (req.method !== 'POST') {
      this.rejected++;
      res.writeHead(405, { allow: 'POST', connection: 'close' }).end();
      return;
    }
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > this.maxBodyBytes) {
      this.refuseTooLarge(res);
      return;
    }
    this.open++;
    const chunks: Buffer[] = [];
    let bytes = 0;
    let done = false;
    const finish = (): boolean => {
      if (done) return false;
      done = true;
      this.open--;
      this.lastActivityMs = Date.now();
      return true;
    };
    req.on('data', (c: Buffer) => {
      if (done) return;
      bytes += c.length;
      if (bytes > this.maxBodyBytes) {
        finish();
        chunks.length = 0;
        this.refuseTooLarge(res);
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!finish()) return;
      const ok = this.accept(Buffer.concat(chunks, bytes));
      res.writeHead(ok ? 204 : 400).end();
    });
    // A body cut short (sender gone, request timeout) is not a forward.
    req.on('error', () => {
      if (finish()) this.malformed++;
    });
    req.on('close', () => {
      if (finish()) this.malformed++;
    });
  }

  private refuseTooLarge(res: http.ServerResponse): void {
    this.rejected++;
    // Closing the connection stops a sender streaming the rest of an oversized body into us.
    res.on('finish', () => res.socket?.destroy());
    res
      .writeHead(413, { connection: 'close', 'content-type': 'text/plain' })
      .end(`body over ${this.maxBodyBytes} bytes\n`);
  }

  /** Counts one body; false when it was not a forward. */
  private accept(body: Buffer): boolean {
    const f = classifyForwardBody(body);
    if (f.kind === 'malformed') {
      this.malformed++;
      return false;
    }
    // Nothing of this run can arrive before its origin: such a stamp is another run's.
    if (f.kind === 'foreign' || this.clock === null) {
      this.tracker.recordForeign();
      return true;
    }
    this.tracker.recordReceived(String(f.stamp.deviceId), f.stamp.seq, this.clock.nowUs() - f.stamp.sentUs);
    return true;
  }
}
