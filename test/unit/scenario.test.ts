import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HerdError } from '../../src/errors.js';
import { loadScenario, parseScenarioText } from '../../src/scenario/load.js';
import { validateScenario } from '../../src/scenario/validate.js';
import { scenarioJsonSchemaText } from '../../src/scenario/json-schema.js';
import { ROOT } from '../helpers/cli.js';

function problems(data: unknown, overrides = {}): string[] {
  try {
    validateScenario(data, 'test.yaml', overrides);
  } catch (err) {
    expect(err).toBeInstanceOf(HerdError);
    expect((err as HerdError).exitCode).toBe(2);
    return [...(err as HerdError).details];
  }
  return [];
}

const minimal = { name: 'x', devices: 10, waves: [{ type: 'ramp', over: '1s' }] };

describe('scenario validation', () => {
  it('accepts every bundled scenario', () => {
    for (const f of readdirSync(`${ROOT}/scenarios`).filter((f) => /\.ya?ml$|\.json$/.test(f))) {
      expect(() => loadScenario(`${ROOT}/scenarios/${f}`), f).not.toThrow();
    }
  });

  it('fills documented defaults', () => {
    const { resolved } = validateScenario(minimal, 't');
    expect(resolved.target).toBe('embedded');
    expect(resolved.seed).toBe(1);
    expect(resolved.device).toMatchObject({
      mqttVersion: 4,
      keepaliveUs: 60_000_000,
      connectTimeoutUs: 10_000_000,
      dnsTtlUs: 60_000_000,
      cleanSession: true,
      clientId: 'herd-{run}-{id}',
    });
    expect(resolved.holdUs).toBe(0);
    expect(resolved.durationUs).toBe(1_000_000);
  });

  it('device.dnsTtl: 0s keeps no answer, a cohort sets its own, and a bad value names the field', () => {
    const { resolved } = validateScenario(
      {
        ...minimal,
        device: { dnsTtl: '0s' },
        cohorts: [
          { name: 'a', share: 0.5, device: { dnsTtl: '5m' } },
          { name: 'b', share: 0.5 },
        ],
      },
      't',
    );
    expect(resolved.device.dnsTtlUs).toBe(0);
    expect(resolved.cohorts.map((c) => c.device.dnsTtlUs)).toEqual([300_000_000, 0]);
    expect(problems({ ...minimal, device: { dnsTtl: 'a minute' } })).toEqual([
      'device.dnsTtl: expected a duration like "30s" (units: us, ms, s, m, h)',
    ]);
  });

  it('reports every problem at once, each with its path', () => {
    const p = problems({
      name: 'bad',
      devices: -5,
      colour: 'blue',
      device: { keepalive: 30 },
      waves: [{ type: 'ramp', over: '10s' }, { type: 'ramp', over: 'soon' }, { type: 'wobble' }],
      thresholds: { 'connect.total': 'p(99) < 2', 'no.such.metric': '< 1' },
    });
    expect(p).toContain('devices: expected a number greater than 0');
    expect(p).toContain('colour: unknown field');
    expect(p).toContain('device.keepalive: expected a duration like "30s" (units: us, ms, s, m, h)');
    expect(p).toContain('waves[1].over: expected a duration like "30s" (units: us, ms, s, m, h)');
    expect(p).toContain('waves[2].type: expected a wave with type ramp, spike, steps, rate, outage or churn');
    expect(p.some((x) => x.startsWith('thresholds.connect.total[0]: "p(99) < 2": a duration needs a unit'))).toBe(true);
    expect(p.some((x) => x.startsWith('thresholds.no.such.metric: unknown metric'))).toBe(true);
  });

  it('names missing required fields', () => {
    expect(problems({ devices: 1, waves: [{ type: 'spike' }] })).toEqual(['name: required']);
  });

  it('rejects an unsupported target scheme', () => {
    expect(problems({ ...minimal, target: 'http://127.0.0.1:80' })[0]).toMatch(
      /^target: unsupported scheme "http:\/\/"; supported: mqtt:\/\//,
    );
  });

  it('checks that the waves connect exactly the fleet', () => {
    expect(
      problems({
        name: 'x',
        devices: 10,
        waves: [
          { type: 'spike', devices: 4 },
          { type: 'spike', devices: 4 },
        ],
      }),
    ).toEqual([
      'waves: the waves connect 8 devices but devices is 10; give one wave no device count to take the rest, or make the counts add up',
    ]);
    expect(problems({ name: 'x', devices: 10, waves: [{ type: 'spike' }, { type: 'spike' }] })[0]).toMatch(
      /^waves\[1\]\.devices: only one wave/,
    );
  });

  it('reports schema, threshold and cross-field problems in one list', () => {
    const p = problems({
      name: 'x',
      devices: 10,
      colour: 'blue',
      waves: [
        { type: 'spike', devices: 4 },
        { type: 'outage', at: '1s', cohort: 'ghosts', offline: '5s' },
      ],
      cohorts: [
        { name: 'a', share: 0.5 },
        { name: 'a', share: '30%' },
      ],
      device: { keepalive: 'often' },
      thresholds: { 'no.such.metric': '< 1' },
    });
    expect(p).toHaveLength(7);
    expect(p).toEqual(
      expect.arrayContaining([
        'colour: unknown field',
        'device.keepalive: expected a duration like "30s" (units: us, ms, s, m, h)',
        expect.stringMatching(/^thresholds\.no\.such\.metric: unknown metric/),
        'waves[1].cohort: no cohort is named "ghosts"',
        'waves: the waves connect 4 devices but devices is 10; give one wave no device count to take the rest, or make the counts add up',
        'cohorts: the shares add up to 80%, expected 100%',
        'cohorts[1].name: "a" is used twice',
      ]),
    );
  });

  it('checks a field against another only when both are valid', () => {
    // devices is invalid, so the waves are not counted against it; the wave problem of its own is still there.
    expect(problems({ name: 'x', devices: 'many', waves: [{ type: 'spike' }, { type: 'spike' }] })).toEqual([
      'devices: expected a whole number',
      'waves[1].devices: only one wave may leave its device count out (it takes the devices left)',
    ]);
  });

  it('rejects a duration that ends before the waves', () => {
    expect(problems({ ...minimal, waves: [{ type: 'ramp', over: '10s' }], duration: '5s' })).toEqual([
      'duration: 5s ends before the last wave does (at 10s)',
    ]);
  });

  it('scales devices and rates with --scale', () => {
    const { resolved } = validateScenario(
      { name: 'x', devices: 300, waves: [{ type: 'rate', rate: 10, over: '10s' }, { type: 'spike' }] },
      't',
      { scale: 5 },
    );
    expect(resolved.devices).toBe(1500);
    expect(resolved.scale).toBe(5);
    expect(resolved.waves[0]).toMatchObject({ type: 'rate', rate: 50, devices: 500 });
    expect(resolved.waves[1]).toMatchObject({ type: 'spike', devices: 1000 });
  });

  it('gives a YAML syntax error one clear message with its line', () => {
    try {
      parseScenarioText('name: x\n  devices: [1,\n', 'broken.yaml');
      expect.unreachable();
    } catch (err) {
      expect((err as HerdError).code).toBe('E_SCENARIO_PARSE');
      expect((err as HerdError).message).toMatch(/^broken\.yaml: not valid YAML or JSON at line \d+/);
    }
  });

  it('names a missing file', () => {
    expect(() => loadScenario('/nonexistent/s.yaml')).toThrow(
      '/nonexistent/s.yaml: cannot read the scenario file (no such file)',
    );
  });

  it('keeps schemas/scenario.schema.json in step with the schema (regenerate: node bin/herd.js schema > schemas/scenario.schema.json)', () => {
    expect(readFileSync(`${ROOT}/schemas/scenario.schema.json`, 'utf8')).toBe(scenarioJsonSchemaText());
  });
});

describe('identity templates', () => {
  it('expands names, and {id/N} / {id%N} so devices can share client ids', async () => {
    const { expandTemplate } = await import('../../src/scenario/template.js');
    const vars = { id: 7, run: 'r1', cohort: 'cloned' };
    expect(expandTemplate('{run}-{cohort}-{id}', vars)).toBe('r1-cloned-7');
    expect(expandTemplate('dev-{id/2}', vars)).toBe('dev-3');
    expect(expandTemplate('dev-{id%5}', vars)).toBe('dev-2');
    expect([0, 1, 2, 3].map((id) => expandTemplate('p-{id/2}', { id }))).toEqual(['p-0', 'p-0', 'p-1', 'p-1']);
    // Left as written: unknown names, division by zero, operators on text.
    expect(expandTemplate('{nope}-{id/0}-{run%3}', vars)).toBe('{nope}-{id/0}-{run%3}');
  });

  it('accepts the downlink block and the reboot outage mode, and names bad values', () => {
    expect(
      problems({
        name: 'd',
        devices: 2,
        device: { downlink: { every: '1s', from: '2s', until: '4s' } },
        waves: [{ type: 'spike' }, { type: 'outage', at: '1s', offline: '1s', mode: 'reboot' }],
      }),
    ).toEqual([]);
    const bad = problems({
      name: 'd',
      devices: 2,
      device: { downlink: { every: '0s', qos: 3 } },
      waves: [{ type: 'spike' }],
    });
    expect(bad.some((p) => p.includes('device.downlink.every'))).toBe(true);
    expect(bad.some((p) => p.includes('device.downlink.qos'))).toBe(true);
    expect(
      problems({
        name: 'd',
        devices: 2,
        device: { protocol: 'websocket', downlink: { every: '1s' } },
        waves: [{ type: 'spike' }],
      }),
    ).toContain('device.downlink: downlink messages are for MQTT devices');
  });
});
