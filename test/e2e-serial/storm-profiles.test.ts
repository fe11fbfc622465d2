/**
 * The promises of the storm scenarios' headers, asserted from results.json with the exit codes
 * the headers state (not the ones a run's own thresholds imply):
 * - carrier-outage: PASSED (exit 0) against the protected target, FAILED (exit 1) on timeouts and
 *   connect p99 against fragile; protected sheds with fast refusals, recovers sooner and times out
 *   fewer devices;
 * - firmware-cohort-storm: FAILED (exit 1) on reconnect.attempts.max.
 * The target's costs are a model on its own clock, so these hold on a busy machine as long as the
 * machine can carry the sockets; when it cannot, the target says so (run.targetLag) and a failed
 * promise quotes it. The runs go one after the other: they must not share the cores.
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
  const args = ['run', `scenarios/${scenario}.yaml`, ...flags, '--out', out, '-q', '--allow-saturated'];
  const res = await runHerd(args, { timeoutMs: 150_000 });
  expect(res.stderr).not.toMatch(/internal error/);
  const [id] = readdirSync(out);
  const r = JSON.parse(readFileSync(join(out, id as string, 'results.json'), 'utf8')) as Results;
  return { res, r };
}

/** The target's own account of the machine, quoted by every failed promise: who, if anyone, to blame. */
const host = (label: string, r: Results): string => `${label}: target lag ${JSON.stringify(r.run.targetLag)}`;
/** The exit code the header promises, with the run's evidence and the target's lag when it differs. */
function expectPromisedExit(label: string, run: { res: CliResult; r: Results }, code: number): void {
  if (run.res.code !== code) console.error(host(label, run.r));
  expectExit(run.res, code);
}

const refusals = (r: Results): number =>
  r.errors.filter((e) => e.origin === 'protocol').reduce((a, e) => a + e.count, 0);
const failedThresholds = (r: Results): string[] => r.thresholds.filter((t) => !t.passed).map((t) => t.metric);
/** Recovery p99 in µs, "never" as infinity. */
const recoveryP99 = (r: Results): number => r.outages[0]?.recovery.p99Us ?? Number.POSITIVE_INFINITY;

describe('the storm scenarios keep their headers’ promises', () => {
  it('carrier-outage: protected passes, recovers sooner, fewer timeouts; fragile fails on timeouts', async () => {
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
    expectPromisedExit('protected', prot, 0);
    expect(prot.r.attempts.timedOut, host('protected', prot.r)).toBe(0);
    expect(refusals(prot.r)).toBeGreaterThan(0);
    // fragile: never refuses, queues past the 5 s timeout; FAILED on timeouts and connect p99.
    expectPromisedExit('fragile', frag, 1);
    expect(refusals(frag.r)).toBe(0);
    expect(failedThresholds(frag.r)).toEqual(expect.arrayContaining(['attempts.timedOut', 'connect.total']));
    // The lesson's figures: admission control buys a faster recovery with fewer timeouts.
    const both = `${host('protected', prot.r)}; ${host('fragile', frag.r)}`;
    expect(recoveryP99(prot.r), both).toBeLessThan(recoveryP99(frag.r));
    expect(prot.r.attempts.timedOut, both).toBeLessThan(frag.r.attempts.timedOut);
  }, 300_000);

  it('firmware-cohort-storm: FAILED on reconnect.attempts.max, the 2.3.1 cohort timing out in lock step', async () => {
    const storm = await run('firmware-cohort-storm');
    const r = storm.r;
    expectPromisedExit('firmware-cohort-storm', storm, 1);
    expect(failedThresholds(r), host('firmware-cohort-storm', r)).toContain('reconnect.attempts.max');
    expect(r.cohorts['fw-2.3.1']?.attempts.timedOut).toBeGreaterThan(r.cohorts['fw-2.4.0']?.attempts.timedOut ?? 0);
    expect(r.errors.filter((e) => e.origin === 'local')).toEqual([]);
  }, 150_000);
});
