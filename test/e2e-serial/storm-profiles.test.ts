/**
 * The promises of the storm scenarios' headers, asserted from results.json with the exit codes
 * the headers state (not the ones a run's own thresholds imply):
 * - carrier-outage: PASSED (exit 0) against the protected target, FAILED (exit 1) on timeouts and
 *   connect p99 against fragile; protected sheds with fast refusals, recovers sooner and times out
 *   fewer devices;
 * - firmware-cohort-storm: FAILED (exit 1) on reconnect.attempts.max.
 * The target's costs are a model on its own clock, so these hold on a busy machine as long as the
 * machine can carry the sockets; when it cannot, the target says so (run.targetLag) and the test
 * names that first. The runs go one after the other: they must not share the cores.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Results } from '../../src/results/types.js';
import { expectExit, runHerd, type CliResult } from '../helpers/cli.js';

/** --allow-saturated: the harness's verdict on itself is its own; the promise is about the target. */
async function run(scenario: string, profile?: 'fragile' | 'protected'): Promise<{ res: CliResult; r: Results }> {
  const out = mkdtempSync(join(tmpdir(), `herd-${profile ?? 'storm'}-`));
  const flags = profile === undefined ? [] : ['--target-profile', profile];
  const res = await runHerd(['run', `scenarios/${scenario}.yaml`, ...flags, '--out', out, '-q', '--allow-saturated'], { timeoutMs: 150_000 });
  expect(res.stderr).not.toMatch(/internal error/);
  const [id] = readdirSync(out);
  const r = JSON.parse(readFileSync(join(out, id as string, 'results.json'), 'utf8')) as Results;
  // The model holds on any machine that carries its sockets; one that did not is named, not blamed.
  expect(r.run.targetLag, `${scenario} (${profile ?? 'as written'}): the machine could not carry the target's model`).toMatchObject({
    overBoundTotal: 0,
    busySeconds: 0,
  });
  return { res, r };
}

const refusals = (r: Results): number => r.errors.filter((e) => e.origin === 'protocol').reduce((a, e) => a + e.count, 0);
const failedThresholds = (r: Results): string[] => r.thresholds.filter((t) => !t.passed).map((t) => t.metric);
/** Recovery p99 in µs, "never" as infinity. */
const recoveryP99 = (r: Results): number => r.outages[0]?.recovery.p99Us ?? Number.POSITIVE_INFINITY;

describe('the storm scenarios keep their headers’ promises', () => {
  it('carrier-outage: protected passes and recovers sooner with fewer timeouts; fragile fails on timeouts', async () => {
    const prot = await run('carrier-outage', 'protected');
    const frag = await run('carrier-outage', 'fragile');
    for (const { r } of [prot, frag]) {
      expect(r.accounting.balanced).toBe(true);
      expect(r.outages[0]?.dropped).toBe(1500);
      expect(r.errors.filter((e) => e.origin === 'local')).toEqual([]);
      expect(r.run.sharesMachine).toBe(true);
    }
    expect(prot.r.scenario.embeddedTarget).toMatchObject({ profile: 'protected' });
    expect(frag.r.scenario.embeddedTarget).toMatchObject({ profile: 'fragile' });
    // protected: PASSED, the excess answered with fast CONNACK refusals, nobody timed out.
    expectExit(prot.res, 0);
    expect(prot.r.attempts.timedOut).toBe(0);
    expect(refusals(prot.r)).toBeGreaterThan(0);
    // fragile: never refuses, queues past the 5 s timeout; FAILED on timeouts and connect p99.
    expectExit(frag.res, 1);
    expect(refusals(frag.r)).toBe(0);
    expect(failedThresholds(frag.r)).toEqual(expect.arrayContaining(['attempts.timedOut', 'connect.total']));
    // The lesson's figures: admission control buys a faster recovery with fewer timeouts.
    expect(recoveryP99(prot.r)).toBeLessThan(recoveryP99(frag.r));
    expect(prot.r.attempts.timedOut).toBeLessThan(frag.r.attempts.timedOut);
  }, 300_000);

  it('firmware-cohort-storm: FAILED on reconnect.attempts.max, the 2.3.1 cohort timing out in lock step', async () => {
    const { res, r } = await run('firmware-cohort-storm');
    expectExit(res, 1);
    expect(failedThresholds(r)).toContain('reconnect.attempts.max');
    expect(r.cohorts['fw-2.3.1']?.attempts.timedOut).toBeGreaterThan(r.cohorts['fw-2.4.0']?.attempts.timedOut ?? 0);
    expect(r.errors.filter((e) => e.origin === 'local')).toEqual([]);
  }, 150_000);
});
