/**
 * Issue 12: `silent` outages are found by the real keepalive path, on both sides. A device-side
 * silent outage black-holes each member's link; the embedded target's silent outage stops reading
 * and answering. Either way every silenced device must be counted as hit and come back (recovery).
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Results } from '../../src/results/types.js';
import { runHerd } from '../helpers/cli.js';

async function run(body: string): Promise<Results> {
  const dir = mkdtempSync(join(tmpdir(), 'herd-silent-'));
  const file = join(dir, 's.yaml');
  writeFileSync(file, body);
  const out = join(dir, 'out');
  const r = await runHerd(['run', file, '--out', out, '--quiet', '--allow-saturated'], { timeoutMs: 90_000 });
  if (r.code !== 0) console.error(r.stderr);
  expect(r.code).toBe(0);
  const [id] = readdirSync(out).filter((d) => !d.startsWith('.'));
  return JSON.parse(readFileSync(join(out, id as string, 'results.json'), 'utf8')) as Results;
}

describe('silent outages through the keepalive path', () => {
  it('device side: every member is hit, found dead by keepalive (not a target error), and recovers', async () => {
    const r = await run(`name: device-silent
devices: 100
device: { keepalive: 4s, connectTimeout: 5s }
reconnect: { policy: exponential, initial: 200ms, max: 1s, jitter: full }
waves:
  - { type: ramp, over: 1s }
  - { type: outage, at: 3s, offline: 3s, mode: silent }
hold: 14s
`);
    // K = 4 s: found dead within 2·K of going dark, and a target stalled by a busy machine for
    // less than K is not mistaken for a dead one after the devices are back.
    expect(r.accounting.balanced).toBe(true);
    expect(r.outages[0]).toMatchObject({ side: 'device', mode: 'silent', dropped: 100, recovered: 100 });
    expect(r.outages[0]?.recovery.p100Us).not.toBeNull();
    expect(r.storm.outageDrops).toBe(100);
    // herd's own outage: neither counted as the target's disconnects nor as its errors.
    expect({ disconnects: r.storm.disconnects, errors: r.errors }).toEqual({ disconnects: 0, errors: [] });
    // Each device came back once: 100 first connects + 100 reconnects.
    expect(r.attempts.succeeded).toBe(200);
  });

  it('embedded target: the sessions it silenced are counted as hit, and recover after it', async () => {
    const r = await run(`name: target-silent
devices: 100
target:
  embedded:
    outages: [{ at: 6s, duration: 4s, mode: silent }]
# 4 s, not 2 s: a 2 s keepalive let a busy machine's stall (> 3 s) end sessions after the devices
# were back (125 disconnects for 100 silenced). Silenced sessions the keepalive has not caught
# when the outage ends are reset by the target then: either way each is lost once.
device: { keepalive: 4s, connectTimeout: 2s }
reconnect: { policy: exponential, initial: 200ms, max: 1s, jitter: full }
waves:
  - { type: ramp, over: 1s }
hold: 15s
`);
    expect(r.accounting.balanced).toBe(true);
    // What is tested needs sessions to silence: the whole fleet connected before the outage. With
    // the outage at 3 s a busy machine still had devices connecting then: they were hit as failed
    // attempts (dropped 100) with no session to lose (disconnects 0). Checked, not assumed.
    const before = r.timeline.buckets.filter((b) => b.t < 6).map((b) => b.connected);
    expect(Math.max(...before), 'devices connected before the outage').toBe(100);
    const out = r.outages.find((o) => o.side === 'target');
    expect(out).toMatchObject({ mode: 'silent', dropped: 100, recovered: 100 });
    expect(out?.recovery.p100Us).not.toBeNull();
    // Found by the devices themselves: keepalive timeouts (or the target's own keepalive closing
    // the silent sessions), never anything herd scheduled.
    expect(r.storm.disconnects).toBe(100);
  });
});
