/**
 * Devices obeying MQTT 5 servers (issue 16), end to end through the real CLI: Server Keep Alive
 * from the embedded target and from Mosquitto (max_keepalive), CONNACK 0x9F with `backoffOn`,
 * DISCONNECT 0x8E on a session takeover, DISCONNECT 0x9C with a Server Reference from a
 * purpose-built loopback server — each on both connect paths (issue 22: the native core records
 * and obeys the same signals; its cohorts are left out, with the reason, when the addon is not
 * built), and DISCONNECT 0x96 from the embedded target's publish throttle on the JavaScript path
 * (the native core carries no publishing devices). Both paths share one run per signal, each in
 * cohorts of its own ("<name>-js", "<name>-native", checked against run.engines): what each path
 * did is read from its cohorts, and the run's serverSignals is their sum. Every assertion reads
 * results.json; a failing run prints herd's stderr.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Results } from '../../src/results/types.js';
import { runHerd } from '../helpers/cli.js';
import { externalProgram } from '../helpers/external.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { engines } from '../helpers/native.js';
import { startSteeringServer, type SteeringServer } from '../helpers/steering-server.js';

const ENGINES = engines();
const E = ENGINES.length;

/** Runs the scenario; with `byCohort`, each cohort "<name>-<engine>" must have run on that path, with no notice. */
async function run(scenario: string, byCohort = false): Promise<Results> {
  const dir = mkdtempSync(join(tmpdir(), 'herd-signals-'));
  const file = join(dir, 's.yaml');
  writeFileSync(file, scenario);
  const out = join(dir, 'out');
  // Saturation is not what these tests assert: a busy shared machine must not turn them red.
  const r = await runHerd(['run', file, '--out', out, '--allow-saturated', '--quiet', '--no-preflight']);
  if (r.code !== 0) process.stderr.write(r.stderr);
  expect(r.code).toBe(0);
  const [id] = readdirSync(out);
  const res = JSON.parse(readFileSync(join(out, id as string, 'results.json'), 'utf8')) as Results;
  if (byCohort) {
    const path = (cohort: string): string => cohort.slice(cohort.lastIndexOf('-') + 1);
    const names = Object.keys(res.cohorts);
    expect(new Set(names.map(path))).toEqual(new Set(ENGINES));
    expect(res.run.engines).toEqual(Object.fromEntries(names.map((n) => [n, path(n)])));
    expect(r.stderr).not.toContain('device.engine native');
  }
  return res;
}

interface Cohort {
  name: string;
  /** More `device` fields, YAML flow style. */
  device?: string;
  /** More cohort fields, YAML flow style. */
  more?: string;
}

/** The cohorts once per connect path ("<name>-<engine>", `device.engine` set), all with an equal share. */
function perEngine(cohorts: Cohort[]): string {
  const share = 100 / (cohorts.length * E);
  return ENGINES.flatMap((engine) =>
    cohorts.map((c) => {
      const device = [`engine: ${engine}`, ...(c.device === undefined ? [] : [c.device])].join(', ');
      const more = c.more === undefined ? '' : `, ${c.more}`;
      return `  - { name: ${c.name}-${engine}, share: ${share}%, device: { ${device} }${more} }`;
    }),
  ).join('\n');
}

const errorCount = (r: Results, cohort: string, code?: string): number =>
  r.cohorts[cohort]?.errors.filter((e) => code === undefined || e.code === code).reduce((a, e) => a + e.count, 0) ??
  Number.NaN;

/** 10 devices per cohort and path: `obeys` adopts the Server Keep Alive, `ignores` keeps its 60 s. */
const keepaliveScenario = (target: string, holdS: number) => `
name: server-keepalive
devices: ${20 * E}
target: ${target}
device: { mqttVersion: 5, keepalive: 60s }
reconnect: { policy: fixed, delay: 30s }
cohorts:
${perEngine([
  { name: 'obeys' },
  {
    name: 'ignores',
    more: 'reconnect: { policy: fixed, delay: 30s, serverSignals: { adoptServerKeepAlive: false } }',
  },
])}
waves: [{ type: ramp, over: 1s }]
hold: ${holdS}s
`;

describe(`Server Keep Alive (${ENGINES.join(' and ')})`, () => {
  it('embedded target (keepaliveMaxS 4): devices that adopt it keep their sessions, those that ignore it are dropped', async () => {
    // 4 s and a 14 s hold, not 2 s and 6 s: on a busy machine a 1 s stall could drop a device
    // pinging every 2 s, and a late check could leave an ignoring one undropped at teardown (9 of 10).
    const r = await run(keepaliveScenario('{ embedded: { throttle: { keepaliveMaxS: 4 } } }', 14), true);
    expect(r.serverSignals, JSON.stringify(r.serverSignals)).toEqual({
      CONNACK_00: 20 * E,
      keepaliveAdopted: 10 * E,
    });
    // The target drops a client silent for 1.5 × 4 s; a device pinging every 54 s is dropped once.
    for (const engine of ENGINES) {
      expect(r.cohorts[`obeys-${engine}`]?.errors).toEqual([]);
      expect(errorCount(r, `ignores-${engine}`), engine).toBe(10);
    }
    expect(r.storm.disconnects).toBe(10 * E);
  });

  const mosquitto = externalProgram('mosquitto');
  // Mosquitto 2.0 refuses a max_keepalive below 10, so this run holds well past 1.5 × 10 s.
  it.skipIf(mosquitto === null)('Mosquitto 2 (max_keepalive 10, MQTT 5): the same', async () => {
    const broker = await startMosquitto(mosquitto as string, ['max_keepalive 10']);
    try {
      const r = await run(keepaliveScenario(JSON.stringify(broker.url), 24), true);
      expect(r.serverSignals.keepaliveAdopted).toBe(10 * E);
      // Mosquitto 2.0.11 enforces keepalive on a coarse loop: some ignorers outlive 1.5 × 10 s, none of the obeying devices is dropped.
      for (const engine of ENGINES) {
        expect(r.cohorts[`obeys-${engine}`]?.errors).toEqual([]);
        expect(errorCount(r, `ignores-${engine}`), engine).toBeGreaterThanOrEqual(1);
      }
      expect(r.storm.disconnects).toBe(ENGINES.reduce((a, e) => a + errorCount(r, `ignores-${e}`), 0));
    } finally {
      await broker.stop();
    }
  });
});

describe(`CONNACK 0x9F connection rate exceeded, with backoffOn (${ENGINES.join(' and ')})`, () => {
  const servers: SteeringServer[] = [];
  afterAll(async () => {
    for (const s of servers) await s.stop();
  });

  it('every refusal is counted by code, and devices told to back off on it try less often, by the policy', async () => {
    const server = await startSteeringServer({ refuseWith: 0x9f });
    servers.push(server);
    const policy = 'policy: exponential, initial: 200ms, multiplier: 3, max: 30s, jitter: none';
    const r = await run(
      `
name: connection-rate-exceeded
devices: ${10 * E}
target: ${server.url}
device: { mqttVersion: 5 }
reconnect: { ${policy} }
cohorts:
${perEngine([{ name: 'backs-off', more: `reconnect: { ${policy}, serverSignals: { backoffOn: [0x9f] } }` }, { name: 'plain' }])}
waves: [{ type: spike }]
hold: 4s
`,
      true,
    );
    // plain: retries after 0.2, 0.6, 1.8 s (then 5.4 s, past the end) → 4 attempts a device.
    // backs-off: each 0x9F adds a step: 0.6 s, then 5.4 s → 2 attempts a device.
    for (const engine of ENGINES) {
      expect(r.cohorts[`plain-${engine}`]?.attempts.started, engine).toBe(20);
      expect(r.cohorts[`backs-off-${engine}`]?.attempts.started, engine).toBe(10);
      expect(errorCount(r, `plain-${engine}`, 'CONNACK_9F'), engine).toBe(20);
      expect(errorCount(r, `backs-off-${engine}`, 'CONNACK_9F'), engine).toBe(10);
    }
    expect(r.serverSignals).toEqual({ CONNACK_9F: 30 * E });
    expect(r.errors).toEqual([expect.objectContaining({ code: 'CONNACK_9F', count: 30 * E })]);
  });
});
describe('DISCONNECT 0x96 message rate too high (embedded target publish throttle; JavaScript path)', () => {
  it('is counted by code, and devices told to back off on it reconnect less often', async () => {
    const r = await run(`
name: rate-too-high
devices: 20
target: { embedded: { throttle: { publishesPerS: 0.2, publishThrottle: disconnect } } }
device: { mqttVersion: 5, publish: { every: 300ms, qos: 0, echo: false, stopBeforeEnd: 0s } }
reconnect: { policy: exponential, initial: 1s, multiplier: 3, max: 30s, jitter: none }
cohorts:
  - { name: backs-off, share: 50%, reconnect: { policy: exponential, initial: 1s, multiplier: 3, max: 30s, jitter: none, serverSignals: { backoffOn: [0x96] } } }
  - { name: plain, share: 50% }
waves: [{ type: spike }]
hold: 8s
`);
    const errs = (c: string) =>
      r.cohorts[c]?.errors.filter((e) => e.code === 'DISCONNECT_96').reduce((a, e) => a + e.count, 0) ?? 0;
    expect(r.serverSignals.DISCONNECT_96).toBe(errs('backs-off') + errs('plain'));
    expect(errs('backs-off')).toBeGreaterThanOrEqual(10);
    // Each cycle: connect, second publish at ~0.6 s → 0x96, then 3 s (backs off: n = 1) vs 1 s.
    expect(r.cohorts['backs-off']!.attempts.started).toBeLessThan(r.cohorts.plain!.attempts.started);
  });
});

describe(`DISCONNECT 0x8E session taken over (duplicate client ids on the embedded target; ${ENGINES.join(' and ')})`, () => {
  it('each new connection with the same client id takes the previous one over: counted apart as takenOver', async () => {
    // One shared id per cohort: 10 devices, each connect after the first takes it over (9).
    const r = await run(
      `
name: duplicate-client-ids
devices: ${10 * E}
device: { mqttVersion: 5, clientId: "shared-{cohort}" }
cohorts:
${perEngine([{ name: 'clones' }])}
waves: [{ type: ramp, over: 2s }]
hold: 1s
`,
      true,
    );
    for (const engine of ENGINES) expect(errorCount(r, `clones-${engine}`, 'DISCONNECT_8E'), engine).toBe(9);
    expect(r.serverSignals).toEqual({ DISCONNECT_8E: 9 * E, takenOver: 9 * E });
    expect(r.errors).toEqual([expect.objectContaining({ code: 'DISCONNECT_8E', count: 9 * E })]);
  });
});

describe(`DISCONNECT 0x9C use another server, with a Server Reference (${ENGINES.join(' and ')})`, () => {
  const servers: SteeringServer[] = [];
  afterAll(async () => {
    for (const s of servers) await s.stop();
  });

  it('devices move to the referenced server only when it is one of their loopback targets; other references are counted, never contacted', async () => {
    const b = await startSteeringServer({});
    const a = await startSteeringServer({
      disconnect: { afterMs: 300, reasonCode: 0x9c, serverReference: `127.0.0.1:${b.port}` },
    });
    const elsewhere = await startSteeringServer({
      disconnect: { afterMs: 300, reasonCode: 0x9c, serverReference: 'broker.invalid:1883' },
    });
    servers.push(a, b, elsewhere);
    const follow = 'reconnect: { policy: fixed, delay: 200ms, serverSignals: { followServerReference: true } }';
    const r = await run(
      `
name: use-another-server
devices: ${10 * E}
device: { mqttVersion: 5, clientId: "dev-{cohort}-{id}" }
cohorts:
${perEngine([
  { name: 'movers', more: `targets: ["${a.url}", "${b.url}"], ${follow}` },
  { name: 'stayers', more: `targets: ["${elsewhere.url}", "${b.url}"], ${follow}` },
])}
waves: [{ type: spike }]
hold: 3s
`,
      true,
    );
    const onB = [...b.connects.keys()];
    for (const engine of ENGINES) {
      expect(onB.filter((id) => id.startsWith(`dev-movers-${engine}-`)).length, engine).toBe(5);
      // Movers are told once and follow; stayers are told on every connect and never follow.
      expect(errorCount(r, `movers-${engine}`, 'DISCONNECT_9C'), engine).toBe(5);
      expect(errorCount(r, `stayers-${engine}`, 'DISCONNECT_9C'), engine).toBeGreaterThanOrEqual(5);
    }
    expect(onB.length).toBe(5 * E);
    expect([...a.connects.values()].every((n) => n === 1)).toBe(true);
    expect(r.serverSignals.referenceFollowed).toBe(5 * E);
    expect(r.serverSignals.referenceRefused).toBe(r.serverSignals.DISCONNECT_9C! - 5 * E);
    expect(r.serverSignals.referenceRefused).toBeGreaterThanOrEqual(5 * E);
  });
});
