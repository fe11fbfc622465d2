/**
 * Issue 5, webhook sink: the embedded target forwards every publish to `herd run --webhook-sink`
 * and silently drops a seeded share of the forwards (webhook.lossRate, lossSeed), so for the number
 * of messages the devices sent the exact number the sink must report lost is known in advance.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Results } from '../../src/results/types.js';
import { LOSS_SALT, seededShareCount } from '../../src/target/shares.js';
import { expectExit, runHerd, type CliResult } from '../helpers/cli.js';
import { freePort } from '../helpers/mosquitto.js';

function scenario(port: number, lossRate: number): string {
  return `name: webhook-loss
devices: 100
target:
  embedded:
    lossSeed: 7
    webhook: { url: "http://127.0.0.1:${port}/hook", lossRate: ${lossRate} }
device:
  keepalive: 30s
  publish: { every: 500ms, qos: 1, payloadBytes: 64 }
waves:
  - { type: ramp, over: 2s }
hold: 5s
thresholds:
  webhook.lost: ["== 0"]
`;
}

async function run(lossRate: number): Promise<{ res: CliResult; r: Results }> {
  const dir = mkdtempSync(join(tmpdir(), 'herd-webhook-'));
  const port = await freePort();
  writeFileSync(join(dir, 's.yaml'), scenario(port, lossRate));
  // --allow-saturated: the exit code follows webhook.lost, whatever else runs on the cores.
  const res = await runHerd([
    'run',
    join(dir, 's.yaml'),
    '--out',
    join(dir, 'out'),
    '--workers',
    '1',
    '-q',
    '--allow-saturated',
    '--webhook-sink',
    String(port),
  ]);
  const [id] = readdirSync(join(dir, 'out'));
  return { res, r: JSON.parse(readFileSync(join(dir, 'out', id as string, 'results.json'), 'utf8')) as Results };
}

describe('herd run --webhook-sink', () => {
  it('counts exactly the forwards the target silently dropped', async () => {
    const { res, r } = await run(0.05);
    const w = r.webhook!;
    // Every connected device published at least once (a quiet run sends ~1,000; a loaded machine
    // connects later and sends fewer — 342 seen — so the floor is what the behaviour guarantees).
    expect(w.sent).toBeGreaterThanOrEqual(r.attempts.succeeded);
    expect(r.attempts.succeeded).toBe(100);
    // The devices' own count, not what arrived, is what the sink holds the target to.
    expect(w.sent).toBe(r.delivery?.sent);
    expect(w.lost).toBe(seededShareCount(0.05, 7, LOSS_SALT.webhook, w.sent));
    expect(w.lost).toBeGreaterThan(0);
    expect(w.delivered + w.lost).toBe(w.sent);
    expect(w).toMatchObject({ duplicated: 0, foreign: 0, malformed: 0, rejected: 0, tooLate: 0 });
    expect(w.lossRate).toBeCloseTo(w.lost / w.sent, 12);
    expect(w.latency?.count).toBe(w.delivered);
    // The target's own echo path lost nothing: the loss is the integrations path's alone.
    expect(r.delivery?.lost).toBe(0);
    expect(r.thresholds[0]).toMatchObject({ metric: 'webhook.lost', passed: false, observed: w.lost });
    expect(res.stdout).toMatch(
      new RegExp(`Webhook[^\\n]*\\n  sent ${w.sent} · delivered ${w.delivered} · lost ${w.lost} `),
    );
    expectExit(res, 1);
  });

  it('reports nothing lost when the target forwards everything', async () => {
    const { res, r } = await run(0);
    expect(r.webhook).toMatchObject({ lost: 0, lossRate: 0, malformed: 0, rejected: 0 });
    expect(r.webhook?.delivered).toBe(r.webhook?.sent);
    expect(r.webhook?.sent).toBeGreaterThanOrEqual(r.attempts.succeeded);
    expect(r.attempts.succeeded).toBe(100);
    expectExit(res, 0);
  });

  it('refuses a bad port with exit 2, naming the flag', async () => {
    const res = await runHerd(['run', 'scenarios/quickstart.yaml', '--webhook-sink', '70000', '-q']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('--webhook-sink');
    expect(res.stderr).toContain('70000');
  });
});
