/**
 * The engine warm-up (src/engine/warm-engine.ts): the run's own cohorts, engines and MQTT versions
 * run through a real Runner against a listener the warm-up opens itself on loopback, every attempt
 * accounted for — and nothing reaches the scenario's target. The scenario it runs is pure data,
 * checked exactly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadScenario } from '../../src/scenario/load.js';
import type { ResolvedScenario } from '../../src/results/resolved-scenario.js';
import { buildConnect } from '../../src/protocols/mqtt/connect-packet.js';
import { connackFor } from '../../src/engine/warm-up.js';
import { warmEngine, warmHandshakes, warmScenario, warmSpecFor } from '../../src/engine/warm-engine.js';
import { nativeBuilt } from '../helpers/native.js';

/** A loopback listener standing for the run's target: the warm-up must never connect to it. */
let target: net.Server;
let targetConnections = 0;
let targetPort = 0;

beforeAll(async () => {
  target = net.createServer((s) => {
    targetConnections++;
    s.destroy();
  });
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
  targetPort = (target.address() as net.AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => target.close(() => resolve())));

function scenario(cohorts: string, extra = ''): ResolvedScenario {
  const dir = mkdtempSync(join(tmpdir(), 'herd-warm-'));
  const path = join(dir, 's.yaml');
  writeFileSync(
    path,
    [
      'name: warm',
      `target: mqtt://127.0.0.1:${targetPort}`,
      'devices: 100',
      'device: { keepalive: 30s, connectTimeout: 5s }',
      cohorts,
      'waves:',
      '  - { type: ramp, over: 10s }',
      extra,
      'hold: 5s',
      '',
    ].join('\n'),
  );
  return loadScenario(path).resolved;
}

const tcpHandles = (): number => process.getActiveResourcesInfo().filter((r) => r.startsWith('TCP')).length;

const connect = (protocolVersion: 4 | 5): Buffer =>
  buildConnect({ clientId: 'c', username: null, password: null, keepaliveS: 0, clean: true, protocolVersion });

describe('engine warm-up: what it runs', () => {
  it('sizes itself by the worker’s devices, up to 4,096 in two rounds', () => {
    expect([1, 2, 3, 100, 4095, 4096, 50_000].map(warmHandshakes)).toEqual([2, 2, 4, 100, 4096, 4096, 4096]);
    const s = scenario('');
    const spec = (index: number): number =>
      warmSpecFor({
        scenario: s,
        runId: 'r',
        shard: { index: 0, count: 1 },
        worker: { index, count: 3 },
        maxHandshakesInFlight: 8,
        maxPacketBytes: 4096,
        sourceIps: [],
      }).handshakes;
    // 100 devices over 3 workers: 34, 33, 33.
    expect([0, 1, 2].map(spec)).toEqual([34, 34, 34]);
  });

  it('keeps the MQTT cohorts, over plain TCP, with nothing but connecting planned', () => {
    const s = scenario(
      [
        'cohorts:',
        '  - { name: a, share: 60%, device: { mqttVersion: 5, engine: js } }',
        '  - { name: b, share: 30%, device: { engine: native, publish: { every: 1s, qos: 1 } } }',
        '  - { name: c, share: 10%, device: { protocol: websocket } }',
      ].join('\n'),
      '  - { type: outage, at: 2s, share: 50%, offline: 1s }',
    );
    const w = warmScenario(s, 90) as ResolvedScenario;
    expect(w.cohorts.map((c) => [c.name, c.devices, c.device.mqttVersion, c.device.engine])).toEqual([
      ['a', 60, 5, 'js'],
      ['b', 30, 4, 'native'],
    ]);
    // Renormalised over the cohorts kept, summed as the warm-up sums them.
    expect(w.cohorts.map((c) => c.share)).toEqual([0.6 / (0.6 + 0.3), 0.3 / (0.6 + 0.3)]);
    expect(w.cohorts.every((c) => c.device.publish === null && c.device.tls === null && c.targets === null)).toBe(true);
    expect(w.waves).toEqual([{ type: 'spike', name: 'warm-up', atUs: 0, devices: 90 }]);
    expect([w.devices, w.outageWindows, w.declaredOutages, w.observedOutages]).toEqual([90, [], [], null]);
  });

  it('has nothing to warm without an MQTT cohort', () => {
    const s = scenario('cohorts:\n  - { name: ws, share: 100%, device: { protocol: websocket } }');
    expect(warmScenario(s, 10)).toBeNull();
  });

  it('answers each CONNECT in its own MQTT version', () => {
    expect([...connackFor(connect(4))]).toEqual([0x20, 0x02, 0x00, 0x00]);
    expect([...connackFor(connect(5))]).toEqual([0x20, 0x03, 0x00, 0x00, 0x00]);
  });
});

describe('engine warm-up: running it', () => {
  const cohorts = (native: boolean): string =>
    [
      'cohorts:',
      `  - { name: v4, share: 50%, device: { engine: ${native ? 'native' : 'js'} } }`,
      `  - { name: v5, share: 50%, device: { mqttVersion: 5, engine: ${native ? 'native' : 'js'} } }`,
    ].join('\n');

  for (const native of [false, true]) {
    it(`connects every device of both versions on ${native ? 'the native core' : 'JavaScript'}, never the target`, async (ctx) => {
      if (native && !nativeBuilt()) return ctx.skip();
      const before = tcpHandles();
      const w = await warmEngine({
        scenario: scenario(cohorts(native)),
        maxHandshakesInFlight: 16,
        maxPacketBytes: 4096,
        runId: 'warm',
        workerIndex: 0,
        workerCount: 1,
        bindsSources: true,
        handshakes: 200,
      });
      expect(w?.handshakes).toBe(200);
      expect(targetConnections).toBe(0);
      // The listener and every socket of the warm-up are gone: closed handles leave the list in the
      // loop's close phase, a turn or two after their 'close' events.
      for (let turn = 0; turn < 10 && tcpHandles() > before; turn++) await new Promise((r) => setImmediate(r));
      expect(tcpHandles()).toBe(before);
    }, 30_000);
  }
});
