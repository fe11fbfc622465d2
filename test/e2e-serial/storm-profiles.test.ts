/**
 * Issue 7's teaching point, asserted from results.json: the carrier-outage storm fails its
 * thresholds against the fragile embedded target and passes against the protected one, whose
 * admission control sheds the excess quickly instead of letting the queue time everyone out.
 * The two runs go one after the other: they must not share the 2 cores.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Results } from '../../src/results/types.js';
import { expectExit, runHerd, type CliResult } from '../helpers/cli.js';

/** --allow-saturated: what is asserted is the target's behaviour; the exit code follows the thresholds. */
async function run(profile: 'fragile' | 'protected'): Promise<{ res: CliResult; r: Results }> {
  const out = mkdtempSync(join(tmpdir(), `herd-${profile}-`));
  const res = await runHerd(['run', 'scenarios/carrier-outage.yaml', '--target-profile', profile, '--out', out, '-q', '--allow-saturated'], { timeoutMs: 120_000 });
  expect(res.stderr).not.toMatch(/internal error/);
  const [id] = readdirSync(out);
  return { res, r: JSON.parse(readFileSync(join(out, id as string, 'results.json'), 'utf8')) as Results };
}

const refusals = (r: Results): number => r.errors.filter((e) => e.origin === 'protocol').reduce((a, e) => a + e.count, 0);

describe('carrier outage against the fragile and the protected target', () => {
  it('protected sheds load with fast refusals; fragile never refuses, queues and times devices out', async () => {
    const prot = await run('protected');
    const frag = await run('fragile');
    for (const { r } of [prot, frag]) {
      expect(r.accounting.balanced).toBe(true);
      expect(r.outages[0]?.dropped).toBe(3000);
      expect(r.errors.filter((e) => e.origin === 'local')).toEqual([]);
    }
    const fmt = (r: Results): string =>
      `recovery p50 ${r.outages[0]?.recovery.p50Us}µs p99 ${r.outages[0]?.recovery.p99Us}µs, refusals ${refusals(r)}, timeouts ${r.attempts.timedOut}, connect p99 ${r.latency['connect.total']?.p99Us}µs, exit ${r.run.exitCode}`;
    console.log(`protected: ${fmt(prot.r)}\nfragile:   ${fmt(frag.r)}`);
    // Protected answers the excess with fast CONNACK refusals; fragile never refuses, it queues.
    // How many time out depends on the CPU both targets get from the shared cores (on a quiet
    // machine protected times nobody out; at load 15 on 2 cores it timed out 5,140), so that is
    // printed above, not asserted, and each exit code follows that run's own thresholds.
    expect(prot.r.scenario.embeddedTarget).toMatchObject({ profile: 'protected' });
    expect(refusals(prot.r)).toBeGreaterThan(0);
    expect(refusals(frag.r)).toBe(0);
    expectExit(prot.res, prot.r.thresholds.every((t) => t.passed) ? 0 : 1);
    // Fragile: the queue outgrows the connect timeout and the thresholds say so.
    expect(frag.r.scenario.embeddedTarget).toMatchObject({ profile: 'fragile' });
    expect(frag.r.attempts.timedOut).toBeGreaterThan(0);
    expect(frag.r.thresholds.find((t) => t.metric === 'attempts.timedOut')?.passed).toBe(false);
    expectExit(frag.res, 1);
  }, 240_000);
});
