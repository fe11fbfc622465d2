/**
 * Issue 14's helpers, pure: URL credentials split, redacted and applied with their precedence;
 * "did you mean"; the nesting guard; and validate/doctor sizing the run as `run --scale` will,
 * in-process through the real CLI.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { HerdError } from '../../src/errors.js';
import { runCli } from '../../src/cli/main.js';
import type { CliContext } from '../../src/cli/context.js';
import { embeddedCapacityPerProcess } from '../../src/engine/embedded-capacity.js';
import { readOpenFileLimit } from '../../src/engine/system.js';
import { validateScenario } from '../../src/scenario/validate.js';
import { checkTextNesting, checkValueNesting } from '../../src/scenario/nesting.js';
import {
  redactScenarioSecrets,
  redactText,
  redactUrl,
  splitUrlCredentials,
  targetUrlProblem,
} from '../../src/scenario/url-credentials.js';
import { closestNames, editDistance } from '../../src/util/suggest.js';
import { ROOT } from '../helpers/cli.js';

const DIR = mkdtempSync(join(tmpdir(), 'herd-inputs-'));
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  // Asserted rather than annotated: main's CliContext also carries wallClockMs, given here.
  const code = await runCli({
    argv,
    env: { NO_COLOR: '1', CI: '1' },
    cwd: DIR,
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    wallClockMs: () => Date.now(),
    onSignal: () => () => undefined,
  } as CliContext);
  return { code, out, err };
}

describe('URL credentials', () => {
  it('splits user and password out of the URL, decoding them and keeping the rest as written', () => {
    expect(splitUrlCredentials('mqtt://alice:s3cret@127.0.0.1:1883/x')).toEqual({
      url: 'mqtt://127.0.0.1:1883/x',
      username: 'alice',
      password: 's3cret',
    });
    expect(splitUrlCredentials('mqtts://a%40b:p%3Aw%2Fd@host:8883')).toEqual({
      url: 'mqtts://host:8883',
      username: 'a@b',
      password: 'p:w/d',
    });
    expect(splitUrlCredentials('ws://token@127.0.0.1:80')).toEqual({
      url: 'ws://127.0.0.1:80',
      username: 'token',
      password: null,
    });
    expect(splitUrlCredentials('mqtt://127.0.0.1:1883')).toEqual({
      url: 'mqtt://127.0.0.1:1883',
      username: null,
      password: null,
    });
  });

  it('redacts passwords in URLs and in free text', () => {
    expect(redactUrl('mqtt://alice:s3cret@127.0.0.1:1883')).toBe('mqtt://alice:***@127.0.0.1:1883');
    expect(redactText('cannot use "mqtt://a:pw@h:0" or wss://u:x@y:1/p')).toBe(
      'cannot use "mqtt://a:***@h:0" or wss://u:***@y:1/p',
    );
    expect(targetUrlProblem('mqtt://alice:s3cret@127.0.0.1:0')).toBe(
      'port "0" is not a port: expected a number from 1 to 65535',
    );
    expect(targetUrlProblem('ftp://alice:s3cret@127.0.0.1:21')).toBe(
      'unsupported scheme "ftp://"; supported: mqtt://, mqtts://, ws://, wss://',
    );
    expect(targetUrlProblem('mqtt://127.0.0.1:1883')).toBeNull();
  });

  it('uses URL credentials for every device unless the scenario names its own, and records no password', () => {
    const base = { name: 'x', devices: 2, waves: [{ type: 'spike' }] };
    const fromUrl = validateScenario({ ...base, target: 'mqtt://alice:s3cret@127.0.0.1:1883' }, 't');
    expect(fromUrl.resolved.target).toBe('mqtt://127.0.0.1:1883');
    expect(fromUrl.resolved.cohorts[0]?.device).toMatchObject({ username: 'alice', password: 's3cret' });
    expect(fromUrl.warnings).toEqual([]);
    expect(redactScenarioSecrets(fromUrl.resolved).cohorts[0]?.device.password).toBe('(redacted)');
    expect(JSON.stringify(redactScenarioSecrets(fromUrl.resolved))).not.toContain('s3cret');
    const own = validateScenario(
      { ...base, target: 'mqtt://alice:s3cret@127.0.0.1:1883', device: { username: 'dev-{id}', password: 'pw-{id}' } },
      't',
    );
    expect(own.resolved.cohorts[0]?.device).toMatchObject({ username: 'dev-{id}', password: 'pw-{id}' });
    expect(own.warnings).toEqual([
      'target: device.username/password in the scenario take precedence over the credentials in the target URL',
    ]);
    const flag = validateScenario(base, 't', { target: 'mqtt://bob:pw2@127.0.0.1:1884' });
    expect(flag.resolved.target).toBe('mqtt://127.0.0.1:1884');
    expect(flag.resolved.cohorts[0]?.device).toMatchObject({ username: 'bob', password: 'pw2' });
  });
});

describe('URL credentials, property: a password in any target URL never reaches a message or the recorded scenario', () => {
  it('holds for URLs near the grammar, valid or not', () => {
    const password = fc
      .string({ unit: fc.constantFrom(...'abcdefghijkXYZ0123456789-_.~%21'.split('')), minLength: 4, maxLength: 12 })
      .map((p) => `PW${p}`);
    const host = fc.constantFrom(
      '127.0.0.1',
      '',
      '[::1]',
      'localhost',
      'h.invalid',
      '127.0.0.1:',
      '127.0.0.1:0',
      '127.0.0.1:99999',
      '127.0.0.1:abc',
      '127.0.0.1:1883',
    );
    const scheme = fc.constantFrom('mqtt', 'mqtts', 'ws', 'wss', 'http', 'ftp', 'MQTT');
    fc.assert(
      fc.property(
        scheme,
        fc.constantFrom('alice', '', 'a%40b'),
        password,
        host,
        fc.constantFrom('', '/x', '/a/b?q=1'),
        (sch, user, pw, h, path) => {
          const url = `${sch}://${user}:${pw}@${h}${path}`;
          const texts: string[] = [];
          for (const [data, overrides] of [
            [{ name: 'x', devices: 1, target: url, waves: [{ type: 'spike' }] }, {}],
            [{ name: 'x', devices: 1, waves: [{ type: 'spike' }] }, { target: url }],
          ] as const) {
            try {
              const l = validateScenario(data, 't', overrides);
              texts.push(JSON.stringify(redactScenarioSecrets(l.resolved)), ...l.warnings, l.resolved.target);
            } catch (err) {
              if (!(err instanceof HerdError)) throw err;
              expect(err.exitCode).toBe(2);
              // printError redacts again on the way out; the property is on what reaches it.
              texts.push(redactText(err.message), ...err.details.map(redactText));
            }
          }
          for (const t of texts) expect(t.includes(pw), `${url} → ${t}`).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('did you mean', () => {
  it('measures edits case-insensitively and offers at most three close names', () => {
    expect(editDistance('keepAlive', 'keepalive')).toBe(0);
    expect(editDistance('connect.totl', 'connect.total')).toBe(1);
    expect(closestNames('keepAlive', ['keepalive', 'cleanSession', 'clientId'])).toEqual(['keepalive']);
    expect(closestNames('zzzz', ['keepalive', 'cleanSession'])).toEqual([]);
    expect(closestNames('abcd', ['abce', 'abcf', 'abcg', 'abch'])).toHaveLength(3);
  });
});

describe('nesting', () => {
  it('refuses deep text before parsing and deep values after, at 64 levels', () => {
    expect(() => checkTextNesting(`a: ${'['.repeat(64)}${']'.repeat(64)}`, 'f')).not.toThrow();
    expect(() => checkTextNesting(`a: ${'['.repeat(65)}${']'.repeat(65)}`, 'f')).toThrow(
      'f: nesting deeper than 64 levels at line 1',
    );
    // Brackets inside quotes and comments are text, not nesting.
    expect(() =>
      checkTextNesting(`a: "${'['.repeat(100)}" # ${'{'.repeat(100)}\nb: '${'['.repeat(100)}'`, 'f'),
    ).not.toThrow();
    // Nor is a block scalar's text, however many brackets it holds.
    expect(() =>
      checkTextNesting(`description: |\n  ${'['.repeat(100)}\n  ${'- '.repeat(100)}\nname: x\n`, 'f'),
    ).not.toThrow();
    expect(() => checkTextNesting(`description: >-\n  ${'{'.repeat(100)}\nx: ${'['.repeat(65)}`, 'f')).toThrow(
      'at line 3',
    );
    let deep: unknown = 1;
    for (let i = 0; i < 70; i++) deep = { k: deep };
    expect(() => checkValueNesting(deep, 'f')).toThrow('f: nesting deeper than 64 levels');
  });
});

describe('validate and doctor size the run as run --scale will', () => {
  const perProcess = embeddedCapacityPerProcess(readOpenFileLimit().soft);
  const quickstart = join(ROOT, 'scenarios', 'quickstart.yaml');

  it('validate --scale 40 reports the scaled fleet', async () => {
    const r = await cli(['validate', quickstart, '--scale', '40']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('40000 devices → embedded');
  });

  it('validate echoes each threshold as read and refuses a rate written as a bare 5 (exit 2)', async () => {
    const r = await cli(['validate', quickstart]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(
      '    connect.total p(99) < 1s\n    errors.rate < 1% of attempts started\n' +
        '    sessions.lostRate < 1% of sessions established\n    attempts.dropped == 0\n',
    );
    const file = join(DIR, 'rate5.yaml');
    writeFileSync(file, 'name: r\ndevices: 3\nwaves: [{type: spike}]\nthresholds:\n  errors.rate: ["< 5"]\n');
    const bad = await cli(['validate', file]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('thresholds.errors.rate[0]: "< 5": a rate is a share: 5 would be 500%; write 5% or 0.05');
    expect(bad.out).toBe('');
  });

  it('validate warns (exit 0) when an MQTT 5 persistent session cannot be resumed', async () => {
    const file = join(DIR, 'v5.yaml');
    writeFileSync(file, 'name: v5\ndevices: 3\ndevice: {mqttVersion: 5, sessionExpiry: 1h}\nwaves: [{type: spike}]\n');
    const r = await cli(['validate', file]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain(
      'warning: device.sessionExpiry: with cleanSession true (MQTT 5 Clean Start) every connect discards the session',
    );
    writeFileSync(
      file,
      'name: v5\ndevices: 3\ndevice: {mqttVersion: 5, cleanSession: false}\nwaves: [{type: spike}]\n',
    );
    const r2 = await cli(['validate', file]);
    expect(r2.code, r2.err).toBe(0);
    expect(r2.err).toContain('warning: device.cleanSession: false without a sessionExpiry');
    writeFileSync(
      file,
      'name: v5\ndevices: 3\ndevice: {mqttVersion: 5, cleanSession: false, sessionExpiry: 1h}\nwaves: [{type: spike}]\n',
    );
    const r3 = await cli(['validate', file]);
    expect(r3.code, r3.err).toBe(0);
    expect(r3.err).not.toContain('warning');
  });

  it('validate warns when the fleet would publish faster than a harness can send', async () => {
    const file = join(DIR, 'busy.yaml');
    writeFileSync(file, 'name: busy\ndevices: 200\ndevice: {publish: {every: 1ms}}\nwaves: [{type: spike}]\n');
    const r = await cli(['validate', file]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain('warning: device.publish/requests/downlink: the fleet would send 200,000 messages/s');
    const calm = await cli(['validate', file, '--devices', '100']);
    expect(calm.err).toBe('');
  });

  it('doctor --scale 40 chooses the embedded processes the run will start', async () => {
    const r = await cli(['doctor', quickstart, '--scale', '40']);
    const need = Math.ceil(40_000 / perProcess);
    expect(r.out).toMatch(
      new RegExp(`embedded target processes\\s+need ${need}\\s+have ${need} \\(chosen\\) × ${perProcess} connections`),
    );
    expect(r.out).toContain('40000 devices → embedded');
  });

  it('doctor refuses an explicit processes count too small for the plan, naming the setting', async () => {
    const file = join(DIR, 'one-process.yaml');
    writeFileSync(
      file,
      'name: one\ndevices: 1000\ntarget: {embedded: {processes: 1}}\nwaves: [{type: ramp, over: 10s}]\n',
    );
    const devices = perProcess + 1;
    const r = await cli(['doctor', file, '--devices', String(devices)]);
    expect(r.code).toBe(3);
    expect(r.out).toContain(`target.embedded.processes: 1 broker process holds at most ${perProcess} connections`);
    expect(r.out).toContain('set target.embedded.processes: 2 or more');
    expect(r.out).toContain('Not ready');
    expect(r.out).not.toContain('Ready to run');
  });
});
