/**
 * Forwards received publishes to an HTTP endpoint on loopback (the "integrations" path of a
 * device cloud), one POST per publish with a JSON body:
 *   {"topic": "...", "payload": "<base64>", "qos": 0|1|2, "retain": bool, "clientId": "..."}
 * With its own deterministic loss knob, so herd's webhook sink can be shown to catch a cloud that
 * silently drops forwarded messages. Memory is bounded: at most maxInFlight POSTs and maxQueue
 * waiting; beyond that a forward is counted as overflow and dropped.
 */
import * as http from 'node:http';
import type { WebhookOptions } from '../scenario/target-options.js';
import { LOSS_SALT, seededShare } from './shares.js';
import type { TargetMetricsSnapshot } from './metrics.js';

const POST_TIMEOUT_MS = 10_000;

export interface ForwardedMessage {
  topic: string;
  payload: Buffer;
  qos: number;
  retain: boolean;
  clientId: string | null;
}

export class WebhookForwarder {
  private readonly agent: http.Agent;
  private readonly url: URL;
  private readonly lose: () => boolean;
  private readonly waiting: string[] = [];
  private inFlight = 0;
  private closed = false;

  constructor(
    private readonly options: WebhookOptions,
    seed: number,
    private readonly metrics: TargetMetricsSnapshot,
  ) {
    this.url = new URL(options.url);
    this.agent = new http.Agent({ keepAlive: true, maxSockets: options.maxInFlight });
    this.lose = seededShare(options.lossRate, seed, LOSS_SALT.webhook);
  }

  forward(m: ForwardedMessage): void {
    if (this.closed) return;
    if (this.lose()) {
      this.metrics.webhookPostsTotal.lost++;
      return;
    }
    const body = JSON.stringify({
      topic: m.topic,
      payload: m.payload.toString('base64'),
      qos: m.qos,
      retain: m.retain,
      clientId: m.clientId,
    });
    if (this.inFlight < this.options.maxInFlight) this.post(body);
    else if (this.waiting.length < this.options.maxQueue) this.waiting.push(body);
    else this.metrics.webhookPostsTotal.overflow++;
  }

  close(): void {
    this.closed = true;
    this.waiting.length = 0;
    this.agent.destroy();
  }

  private post(body: string): void {
    this.inFlight++;
    let settled = false;
    const done = (ok: boolean): void => {
      if (settled) return;
      settled = true;
      this.inFlight--;
      this.metrics.webhookPostsTotal[ok ? 'ok' : 'failed']++;
      const next = this.waiting.shift();
      if (next !== undefined && !this.closed) this.post(next);
    };
    const req = http.request(this.url, {
      method: 'POST',
      agent: this.agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      timeout: POST_TIMEOUT_MS,
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => done((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300));
      res.on('error', () => done(false));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => done(false));
    req.end(body);
  }
}
