/**
 * Issue 4's teaching point, asserted from results.json: after the same outage, firmware with a
 * fixed 1 s unjittered reconnect timer comes back in one synchronised burst, while exponential
 * backoff with full jitter spreads the same fleet out.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Results } from '../../src/results/types.js';
import { expectExit, runHerd } from '../helpers/cli.js';

async function runWith(reconnect: string): Promise<Results> {
  const dir = mkdtempSync(join(tmpdir(), 'herd-retry-'));
  const file = join(dir, 's.yaml');
  writeFileSync(
    file,
    `name: outage-${reconnect.includes('fixed') ? 'fixed' : 'exponential'}
devices: 1000
reconnect: ${reconnect}
device: { keepalive: 60s, connectTimeout: 5s }
waves:
  - { type: ramp, over: 2s }
  - { type: outage, at: 3s, offline: 8s, mode: reset }
hold: 20s
`,
  );
  const r = await runHerd(['run', file, '--out', join(dir, 'out'), '--workers', '1', '--allow-saturated'], {
    timeoutMs: 90_000,
  });
  expect(r.stderr).not.toMatch(/internal error/);
  expectExit(r, 0);
  const [run] = readdirSync(join(dir, 'out'));
  return JSON.parse(readFileSync(join(dir, 'out', run as string, 'results.json'), 'utf8')) as Results;
}

describe('retry amplification after an outage', () => {
  it('a fixed 1 s unjittered timer peaks several times higher than exponential backoff with full jitter', async () => {
    // One after the other: two storms sharing the cores would blur the very peaks compared here.
    const fixed = await runWith('{ policy: fixed, delay: 1s, jitter: none }');
    const spread = await runWith('{ policy: exponential, initial: 1s, max: 16s, jitter: full }');
    for (const r of [fixed, spread]) {
      expect(r.accounting.balanced).toBe(true);
      expect(r.outages).toHaveLength(1);
      expect(r.outages[0]?.dropped).toBe(1000);
      expect(r.outages[0]?.recovered).toBe(1000);
      expect(r.attempts.offline).toBeGreaterThan(0);
    }
    const fixedPeak = fixed.outages[0]!.peakAttemptsPerS;
    const spreadPeak = spread.outages[0]!.peakAttemptsPerS;
    // Every fixed-timer device retries within the same second after the network returns.
    expect(fixedPeak).toBeGreaterThanOrEqual(900);
    expect(fixedPeak).toBeGreaterThanOrEqual(3 * spreadPeak);
    // …and so the fixed fleet is back sooner, at the price of the burst.
    expect(fixed.outages[0]!.recovery.p100Us!).toBeLessThan(spread.outages[0]!.recovery.p100Us!);
    console.log(
      `retry amplification: fixed 1s peak ${fixedPeak}/s, recovery p99 ${fixed.outages[0]!.recovery.p99Us}µs; ` +
        `exponential full jitter peak ${spreadPeak}/s, recovery p99 ${spread.outages[0]!.recovery.p99Us}µs`,
    );
  }, 150_000);
});
