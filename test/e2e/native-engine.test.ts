/**
 * The native storm core end to end: the same small scenario run by the real CLI on the JavaScript
 * path and on the native core, against the embedded target and against Mosquitto, gives the same
 * accounting identity, the same results shape and the same outcome counts. A cohort the native
 * core cannot carry (telemetry at QoS 2) stays on JavaScript, and the run says so once. Over mqtts://
 * the core's TLS handshakes are counted and timed as the JavaScript path's.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Results } from '../../src/results/types.js';
import { externalProgram } from '../helpers/external.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { nativeBuilt } from '../helpers/native.js';
import { expectExit, runHerd } from '../helpers/cli.js';

const native = nativeBuilt();
const mosquittoBin = externalProgram('mosquitto');
const NOTICE = 'these devices run on the JavaScript path';

/**
 * 400 devices with a 4 s keepalive held 9 s (PINGREQs sent and answered); with `extraCohort`, 200
 * devices held 4 s: those runs assert who ran where and that every connect succeeded, which a
 * spike of 200 on loopback does in well under a second even on a busy core.
 */
function scenario(engine: string, extraCohort = ''): string {
  const dir = mkdtempSync(join(tmpdir(), 'herd-native-e2e-'));
  const file = join(dir, 'scenario.yaml');
  const devices = extraCohort === '' ? `devices: 400\ndevice:\n  keepalive: 4s\n  engine: ${engine}` : 'devices: 200';
  writeFileSync(
    file,
    [
      'name: native-e2e',
      'target: embedded',
      'seed: 3',
      devices,
      extraCohort,
      'waves:',
      '  - type: spike',
      `hold: ${extraCohort === '' ? 9 : 4}s`,
      '',
    ].join('\n'),
  );
  return file;
}

async function run(
  file: string,
  target?: string,
  env?: Record<string, string>,
): Promise<{ res: Results; stderr: string; stdout: string }> {
  const out = mkdtempSync(join(tmpdir(), 'herd-native-out-'));
  const args = ['run', file, '--out', out, '--allow-saturated', ...(target ? ['--target', target] : [])];
  const r = await runHerd(args, env ? { env } : {});
  expectExit(r, 0);
  const [dir] = readdirSync(out);
  const res = JSON.parse(readFileSync(join(out, dir as string, 'results.json'), 'utf8')) as Results;
  return { res, stderr: r.stderr, stdout: r.stdout };
}

function identity(res: Results): void {
  const a = res.attempts;
  expect(a.planned + a.reconnects).toBe(a.started + a.dropped + a.offline);
  expect(a.started).toBe(a.succeeded + a.failed + a.timedOut + a.inFlightAtEnd + a.lostToHarness);
}

/**
 * Same accounting and results shape. `retries: 'timed'` when the plan has an outage: how many
 * reconnects fall inside the offline window depends on when each loss is noticed, which is the
 * machine's scheduling, so those two counts are compared by the accounting identity alone.
 */
function sameShape(js: Results, nat: Results, retries: 'exact' | 'timed' = 'exact'): void {
  identity(js);
  identity(nat);
  const fixed = ({ reconnects, offline, started, ...rest }: Results['attempts']) =>
    retries === 'exact' ? { reconnects, offline, started, ...rest } : rest;
  expect(fixed(nat.attempts)).toEqual(fixed(js.attempts));
  expect(nat.errors).toEqual(js.errors);
  expect(Object.keys(nat).sort()).toEqual(Object.keys(js).sort());
  expect(Object.keys(nat.latency).sort()).toEqual(Object.keys(js.latency).sort());
  expect(nat.latency['phase.mqttConnack']?.count).toBe(js.latency['phase.mqttConnack']?.count);
  expect(nat.latency['phase.tcpConnect']?.count).toBe(js.latency['phase.tcpConnect']?.count);
}

describe.skipIf(!native)('device.engine: native end to end', () => {
  it('against the embedded target: same accounting and results shape as the JavaScript path, keepalive answered', async () => {
    const js = await run(scenario('js'));
    const nat = await run(scenario('native'));
    expect(nat.stderr).not.toContain(NOTICE);
    expect(nat.res.scenario.device.engine).toBe('native');
    // The run records which path ran, and the summary names it (issue 25).
    expect(js.res.run.engines).toEqual({ default: 'js' });
    expect(nat.res.run.engines).toEqual({ default: 'native' });
    expect(nat.stdout.split('\n')[2]).toBe('  engine native');
    sameShape(js.res, nat.res);
    expect(nat.res.attempts).toMatchObject({ planned: 400, succeeded: 400, failed: 0, timedOut: 0, dropped: 0 });
    // 4 s keepalive over a 9 s hold: PINGREQs were sent and answered, no session was lost (K leaves
    // room for a target stalled by a busy machine: a session is declared dead only K after a PINGREQ).
    expect(nat.res.errors).toEqual([]);
  });

  it('a cohort the native core cannot carry stays on JavaScript, and the run says so once', async () => {
    const cohorts = [
      'cohorts:',
      '  - name: plain',
      '    share: 0.75',
      '    device: { engine: native }',
      '  - name: telemetry',
      '    share: 0.25',
      '    device: { engine: native, publish: { every: 1s, qos: 2 } }',
    ].join('\n');
    const { res, stderr } = await run(scenario('native', cohorts));
    identity(res);
    expect(res.attempts).toMatchObject({ planned: 200, succeeded: 200, failed: 0 });
    expect(stderr.split(NOTICE).length - 1).toBe(1);
    expect(stderr).toContain('cohort telemetry: devices that publish telemetry at QoS 2');
    expect(stderr).not.toContain('cohort plain');
    expect(res.run.engines).toEqual({ plain: 'native', telemetry: 'js' });
  });

  it('by default (auto) every cohort it carries goes native silently; HERD_NATIVE=0 keeps all on JavaScript', async () => {
    const cohorts = [
      'cohorts:',
      '  - name: unsaid',
      '    share: 0.5',
      '  - name: asked',
      '    share: 0.5',
      '    device: { engine: native }',
    ].join('\n');
    const file = scenario('native', cohorts);
    const auto = await run(file);
    expect(auto.res.scenario.cohorts.map((c) => c.device.engine)).toEqual(['auto', 'native']);
    expect(auto.res.run.engines).toEqual({ unsaid: 'native', asked: 'native' });
    expect(auto.stderr).not.toContain('notice:');
    const off = await run(file, undefined, { HERD_NATIVE: '0' });
    identity(off.res);
    expect(off.res.attempts).toMatchObject({ planned: 200, succeeded: 200, failed: 0 });
    expect(off.res.run.engines).toEqual({ unsaid: 'js', asked: 'js' });
    expect(off.stdout.split('\n')[2]).toBe('  engine js');
    const notice =
      'notice: HERD_NATIVE=0 — every device runs on the JavaScript path (device.engine native in cohort asked)';
    expect(off.stderr.split('\n').filter((l) => l.includes('HERD_NATIVE=0'))).toEqual([notice]);
    expect(off.stderr).not.toContain(NOTICE);
  });

  it('over mqtts:// (the embedded target with TLS): full and resumed handshakes timed apart, as on JavaScript', async () => {
    const tlsScenario = (engine: string): string => {
      const file = join(mkdtempSync(join(tmpdir(), 'herd-native-tls-')), 'scenario.yaml');
      writeFileSync(
        file,
        [
          'name: native-tls',
          'target:',
          '  embedded: { tls: true }',
          'seed: 3',
          'devices: 100',
          `device: { transport: mqtts, keepalive: 30s, engine: ${engine}, tls: { resume: 1 } }`,
          'reconnect: { policy: fixed, delay: 200ms }',
          'waves:',
          '  - { type: ramp, over: 1s }',
          '  - { type: outage, at: 2s, offline: 1s, mode: reset }',
          'hold: 3s',
          '',
        ].join('\n'),
      );
      return file;
    };
    const js = await run(tlsScenario('js'));
    const nat = await run(tlsScenario('native'));
    expect(nat.stderr).not.toContain(NOTICE);
    expect(nat.res.run.engines).toEqual({ default: 'native' });
    sameShape(js.res, nat.res, 'timed');
    expect(nat.res.attempts).toMatchObject({ planned: 100, succeeded: 200, failed: 0, timedOut: 0 });
    // First connects are full handshakes; every reconnect offered (resume: 1) and resumed its session.
    for (const r of [js.res, nat.res]) {
      expect(r.latency['phase.tlsFull']?.count).toBe(100);
      expect(r.latency['phase.tlsResumed']?.count).toBe(100);
    }
  });

  describe.skipIf(mosquittoBin === null)('against Mosquitto', () => {
    let broker: Mosquitto;
    beforeAll(async () => {
      broker = await startMosquitto(mosquittoBin as string);
    });
    afterAll(async () => {
      await broker?.stop();
    });

    it('same accounting and results shape as the JavaScript path', async () => {
      const js = await run(scenario('js'), broker.url);
      const nat = await run(scenario('native'), broker.url);
      expect(nat.stderr).not.toContain(NOTICE);
      sameShape(js.res, nat.res);
      expect(nat.res.attempts).toMatchObject({ planned: 400, succeeded: 400, failed: 0, timedOut: 0 });
    });
  });
});
