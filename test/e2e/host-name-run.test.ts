/**
 * `herd run` against a broker given by host name (aedes on 127.0.0.1, reached as `localhost`): with
 * device.dnsTtl at its default each worker looks the name up once for the whole run, with `0s`
 * every attempt does; results.json (`run.names`) and the summary say how often, where the attempts
 * went and how they ended there (a port nobody listens on: every attempt failed at 127.0.0.1). Skipped, saying why, when `localhost` does not resolve to 127.0.0.1 here.
 */
import { lookup } from 'node:dns/promises';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Results } from '../../src/results/types.js';
import { aedesOnLoopback } from '../helpers/aedes.js';
import { expectExit, runHerd } from '../helpers/cli.js';
import { freePort } from '../helpers/mosquitto.js';

const local = await lookup('localhost', { family: 4 }).catch(() => null);
const SKIP = local?.address === '127.0.0.1' ? false : `localhost resolves to ${local?.address ?? 'nothing'} here`;
if (SKIP) console.warn(`host-name-run: skipped: ${SKIP}`);

const DEVICES = 60;
const WORKERS = 2;

/** run.names of these runs: one name, every attempt to 127.0.0.1. */
const tally = (lookups: number, attempts: number, succeeded: number, failed: number) => [
  { host: 'localhost', lookups, failedLookups: 0, addresses: { '127.0.0.1': { attempts, succeeded, failed } } },
];

describe.skipIf(SKIP !== false)('herd run to a target given by host name', () => {
  const broker = aedesOnLoopback();
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'herd-test-names-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function run(
    name: string,
    deviceLine: string,
    url = broker.url().replace('127.0.0.1', 'localhost'),
    flags: string[] = [],
  ): Promise<{ res: Results; stdout: string }> {
    const scenario = join(dir, `${name}.yaml`);
    writeFileSync(
      scenario,
      `name: ${name}\ndevices: ${DEVICES}\n${deviceLine}waves: [{type: ramp, over: 300ms}]\nhold: 500ms\n`,
    );
    const out = join(dir, name);
    const r = await runHerd(
      ['run', scenario, '--target', url, '--workers', String(WORKERS), '--out', out, '--allow-saturated', ...flags],
      { timeoutMs: 90_000 },
    );
    expectExit(r, 0);
    const runs = readdirSync(out).filter((d) => !d.startsWith('.'));
    expect(runs).toHaveLength(1);
    return { res: JSON.parse(readFileSync(join(out, runs[0] as string, 'results.json'), 'utf8')), stdout: r.stdout };
  }

  it('by default each worker looks the name up once, and the results say where the attempts went', async () => {
    const { res, stdout } = await run('kept', '');
    expect(res.scenario.device.dnsTtlUs).toBe(60_000_000);
    expect(res.attempts.succeeded).toBe(DEVICES);
    expect(res.run.names).toEqual(tally(WORKERS, DEVICES, DEVICES, 0));
    // Each worker's first attempt waited for its lookup; later ones used the answer, with no dns phase.
    const dns = res.latency['phase.dns']?.count ?? 0;
    expect(dns).toBeGreaterThanOrEqual(WORKERS);
    expect(dns).toBeLessThanOrEqual(DEVICES);
    expect(stdout).toContain(`names localhost → 127.0.0.1 ×${DEVICES} (${WORKERS} lookups)`);
  });

  it('with dnsTtl 0s every attempt looks the name up and has a dns phase', async () => {
    const { res, stdout } = await run('each', 'device: {dnsTtl: 0s}\n');
    expect(res.attempts.succeeded).toBe(DEVICES);
    expect(res.run.names).toEqual(tally(DEVICES, DEVICES, DEVICES, 0));
    expect(res.latency['phase.dns']?.count).toBe(DEVICES);
    expect(stdout).toContain(`names localhost → 127.0.0.1 ×${DEVICES} (${DEVICES} lookups)`);
  });

  it('an address that refuses: every attempt counted against it, none connected', async () => {
    const port = await freePort();
    const url = `mqtt://localhost:${port}`;
    // No threshold is set: a run whose every attempt was refused still passes (exit 0), and says so.
    const { res, stdout } = await run('refused', '', url, ['--allow-unreachable']);
    expect(stdout).toContain(`names localhost → 127.0.0.1 ×${res.attempts.started} (${res.attempts.failed} failed)`);
    const a = res.attempts;
    expect(a.succeeded).toBe(0);
    expect(a.started).toBeGreaterThanOrEqual(DEVICES);
    expect(res.run.names).toEqual(tally(WORKERS, a.started, 0, a.failed + a.timedOut));
    expect(a.failed + a.timedOut + a.inFlightAtEnd).toBe(a.started);
  });
});
