/**
 * Issue 12: a broker that answers CONNECT and then never answers PINGREQ. Every device must notice,
 * by the rule in docs/metrics.md ("Keepalive"): one PINGREQ at most K after CONNECT, never a second
 * one outstanding, and KEEPALIVE_TIMEOUT exactly K after the unanswered PINGREQ (turns fall on the
 * run's whole seconds, so up to 1 s later). Checked from both sides: results.json's errors and the
 * broker's own record of when each PINGREQ came and each connection was closed.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Results } from '../../src/results/types.js';
import { runHerd } from '../helpers/cli.js';
import { startSilentBroker, type SilentBroker } from '../helpers/silent-broker.js';

const DEVICES = 50;
/** The wheel's whole-second turns (≤ 1 s) plus scheduling on two busy shared cores. */
const SLACK_MS = 2_500;

const SCENARIO = `name: dead-broker
devices: ${DEVICES}
device: { connectTimeout: 5s }
reconnect: { policy: none }
cohorts:
  - { name: k5, share: 50%, device: { keepalive: 5s } }
  - { name: k12, share: 50%, device: { keepalive: 12s } }
waves:
  - { type: ramp, over: 1s }
hold: 30s
`;

describe('keepalive against a broker that never answers PINGREQ', () => {
  let broker: SilentBroker;
  beforeAll(async () => {
    broker = await startSilentBroker();
  });
  afterAll(async () => {
    await broker.close();
  });

  it('every device reports KEEPALIVE_TIMEOUT K after its one unanswered PINGREQ (K = 5 s and 12 s)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herd-dead-broker-'));
    const file = join(dir, 's.yaml');
    writeFileSync(file, SCENARIO);
    const out = join(dir, 'out');
    const r = await runHerd(
      ['run', file, '--target', broker.url, '--out', out, '--quiet', '--allow-saturated', '--no-preflight'],
      { timeoutMs: 110_000 },
    );
    if (r.code !== 0) console.error(r.stderr);
    expect(r.code).toBe(0);
    const [id] = readdirSync(out).filter((d) => !d.startsWith('.'));
    const res = JSON.parse(readFileSync(join(out, id as string, 'results.json'), 'utf8')) as Results;

    // herd's side: all 50 noticed, as the target's silence, and gave up (policy none).
    expect(res.attempts.succeeded).toBe(DEVICES);
    expect(res.errors).toEqual([{ origin: 'network', phase: 'held', code: 'KEEPALIVE_TIMEOUT', count: DEVICES }]);
    expect(res.storm.disconnects).toBe(DEVICES);
    expect(res.attempts.gaveUp).toBe(DEVICES);
    for (const name of ['k5', 'k12']) {
      expect(res.cohorts[name]?.errors).toEqual([
        { origin: 'network', phase: 'held', code: 'KEEPALIVE_TIMEOUT', count: DEVICES / 2 },
      ]);
    }

    // The broker's side: one PINGREQ per connection, at most K after CONNACK, and the close
    // K (+ up to one wheel second) after it.
    // herd's reachability probe is an empty connection: only MQTT sessions count.
    const sessions = broker.connections.filter((c) => c.connackAtMs !== null);
    expect(sessions).toHaveLength(DEVICES);
    const byK = new Map<number, number>();
    for (const c of sessions) {
      const kMs = (c.keepaliveS as number) * 1000;
      byK.set(c.keepaliveS as number, (byK.get(c.keepaliveS as number) ?? 0) + 1);
      expect(c.pingreqAtMs, `${c.clientId}: PINGREQs`).toHaveLength(1);
      const pingAt = c.pingreqAtMs[0] as number;
      expect(pingAt - (c.connackAtMs as number), `${c.clientId}: first PINGREQ after CONNACK`).toBeLessThanOrEqual(
        kMs + SLACK_MS,
      );
      expect(c.closedAtMs, `${c.clientId}: closed by the device`).not.toBeNull();
      const deadAfterMs = (c.closedAtMs as number) - pingAt;
      // Both ends fall on the run's whole seconds: a PINGREQ sent late in its second makes the gap
      // a little shorter than K, a late death a little longer.
      expect(deadAfterMs, `${c.clientId}: close after the unanswered PINGREQ`).toBeGreaterThanOrEqual(kMs - SLACK_MS);
      expect(deadAfterMs, `${c.clientId}: close after the unanswered PINGREQ`).toBeLessThanOrEqual(kMs + SLACK_MS);
    }
    expect(Object.fromEntries(byK)).toEqual({ 5: DEVICES / 2, 12: DEVICES / 2 });
  }, 120_000);
});
