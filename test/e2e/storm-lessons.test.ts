/**
 * The storm lessons, asserted from results.json: each storm runs a fleet of 1,000-1,500 devices
 * through an outage and a reconnect burst. They live in one file so that they run one after the
 * other and never two side by side; beside them the suite's other files run on the second worker,
 * as a busy core would. Every storm's figures are the embedded target's model on its own clock, or
 * counts that the machine's load cannot move.
 *
 * 1. The storm scenarios keep the promises of their headers, with the exit codes the headers state
 *    (not the ones a run's own thresholds imply):
 *    - carrier-outage: PASSED (exit 0) against the protected target, FAILED (exit 1) on timeouts
 *      and connect p99 against fragile; protected sheds with fast refusals, recovers sooner and
 *      times out fewer devices;
 *    - firmware-cohort-storm: FAILED (exit 1) on reconnect.attempts.max.
 *    When the machine cannot carry the sockets, the target says so (run.targetLag) and a failed
 *    promise quotes it.
 * 2. Retry amplification (issue 4): after the same outage, firmware with a fixed 1 s unjittered
 *    reconnect timer comes back in one synchronised burst, while exponential backoff with full
 *    jitter spreads the same fleet out.
 * 3. scenarios/aws-throttle.yaml (issue 16): against AWS IoT Core's connect limits, the
 *    MQTT.js-defaults cohort (1 s lock step) is the one throttled but is back within seconds; the
 *    AWS-SDK cohort (jittered exponential backoff) is barely throttled but takes far longer to be
 *    back. The scenario file itself is run, unmodified.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
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
  return { res, r: resultsIn(out) };
}

/** The results.json of the one run written under `out`. */
function resultsIn(out: string): Results {
  const [id] = readdirSync(out);
  return JSON.parse(readFileSync(join(out, id as string, 'results.json'), 'utf8')) as Results;
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
  return resultsIn(join(dir, 'out'));
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

describe('scenarios/aws-throttle.yaml', () => {
  it(
    'MQTT.js lock step gets throttled and recovers fast; the AWS SDK is spread, barely throttled and slower',
    { timeout: 150_000 },
    async () => {
      const { res: cli, r: res } = await run('aws-throttle');
      expectExit(cli, 0);
      const refused = (cohort: string): number =>
        res.cohorts[cohort]?.errors.filter((e) => e.code === 'CONNACK_9F').reduce((a, e) => a + e.count, 0) ?? 0;
      const mqttjs = refused('mqttjs');
      const aws = refused('aws-sdk');
      // 150 devices in one instant against a 50/s quota (bucket of 50): 100 refusals in the first second alone.
      expect(mqttjs).toBeGreaterThanOrEqual(100);
      expect(mqttjs).toBeGreaterThan(3 * aws);
      expect(res.serverSignals.CONNACK_9F).toBe(mqttjs + aws);
      const [awsDrop, jsDrop] = ['drop-aws-sdk', 'drop-mqttjs'].map((n) => res.outages.find((o) => o.name === n));
      expect(jsDrop?.recovered).toBe(150);
      expect(jsDrop?.recovery.p99Us).not.toBeNull();
      expect(awsDrop?.recovery.p99Us ?? Infinity).toBeGreaterThan(3 * (jsDrop?.recovery.p99Us as number));
      expect(res.attempts.timedOut).toBe(0);
    },
  );
});
