/**
 * The engine warm-up (src/engine/warm-engine.ts): the run's own cohorts, engines and MQTT versions
 * run through a real Runner against a listener the warm-up opens itself on loopback, every attempt
 * accounted for — and nothing reaches the scenario's target. The scenario it runs is pure data,
 * checked exactly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as mqtt from 'mqtt-packet';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadScenario } from '../../src/scenario/load.js';
import type { ResolvedScenario } from '../../src/results/resolved-scenario.js';
import { buildConnect } from '../../src/protocols/mqtt/connect-packet.js';
import { connackFor, ThrowawayListener, topicMatches } from '../../src/engine/warm-listener.js';
import {
  warmEngine,
  warmHandshakes,
  warmScenario,
  WARM_RAMP_US,
  warmSpecFor,
  type WarmEngineSpec,
  type WarmTelemetry,
} from '../../src/engine/warm-engine.js';
import { WARM_PUBLISHES } from '../../src/engine/warm-round.js';
import { engines, nativeBuilt } from '../helpers/native.js';

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
      'device: { keepalive: 30s, connectTimeout: 30s }',
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

/** The warm-up of a one-worker run of `s`, `handshakes` in all. */
const spec = (s: ResolvedScenario, handshakes: number, bindsSources = false): WarmEngineSpec => ({
  scenario: s,
  maxHandshakesInFlight: 16,
  maxPacketBytes: 4096,
  runId: 'warm',
  workerIndex: 0,
  workerCount: 1,
  bindsSources,
  handshakes,
  // Exact counts must not hang on the machine's speed: a round bound no busy machine reaches.
  roundBoundMs: 120_000,
});

const tcpHandles = (): number => process.getActiveResourcesInfo().filter((r) => r.startsWith('TCP')).length;

const connect = (protocolVersion: 4 | 5): Buffer =>
  buildConnect({ clientId: 'c', username: null, password: null, keepaliveS: 0, clean: true, protocolVersion });

describe('engine warm-up: what it runs', () => {
  it('sizes itself by the worker’s devices below 1,000, and warms fully (4,096 in two rounds) from there', () => {
    expect([1, 2, 3, 100, 999, 1000, 4095, 4096, 50_000].map(warmHandshakes)).toEqual([
      2, 2, 4, 100, 1000, 4096, 4096, 4096, 4096,
    ]);
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

  it('keeps the MQTT cohorts, over plain TCP, with nothing but connecting and telemetry planned', () => {
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
    expect(w.cohorts.every((c) => c.device.tls === null && c.targets === null && c.device.requests === null)).toBe(
      true,
    );
    // Telemetry kept as the run has it, at the warm-up's short interval, publishing until the round ends.
    expect(w.cohorts.map((c) => c.device.publish)).toEqual([
      null,
      { ...(s.cohorts[1]?.device.publish as object), everyUs: 50_000, stopBeforeEndUs: 0 },
    ]);
    expect(s.cohorts[1]?.device.publish).toMatchObject({ everyUs: 1_000_000, qos: 1, echo: true });
    expect(w.waves).toEqual([{ type: 'spike', name: 'warm-up', atUs: 0, devices: 90 }]);
    // The second round: a ramp, whose attempts the scheduler starts from timers.
    const ramp = warmScenario(s, 90, WARM_RAMP_US) as ResolvedScenario;
    expect(ramp.waves).toEqual([{ type: 'ramp', name: 'warm-up', atUs: 0, devices: 90, overUs: 250_000 }]);
    expect([w.devices, w.outageWindows, w.declaredOutages]).toEqual([90, [], []]);
    // The run's observed-outage rule stays (its detector runs on every connect), and is the run's.
    expect(s.observedOutages).not.toBeNull();
    expect(w.observedOutages).toEqual(s.observedOutages);
  });

  it('has nothing to warm without an MQTT cohort', () => {
    const s = scenario('cohorts:\n  - { name: ws, share: 100%, device: { protocol: websocket } }');
    expect(warmScenario(s, 10)).toBeNull();
  });

  it('answers each CONNECT in its own MQTT version', () => {
    expect([...connackFor(4)]).toEqual([0x20, 0x02, 0x00, 0x00]);
    expect([...connackFor(5)]).toEqual([0x20, 0x03, 0x00, 0x00, 0x00]);
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
      const w = await warmEngine(spec(scenario(cohorts(native)), 200, true));
      expect(w?.handshakes).toBe(200);
      expect(targetConnections).toBe(0);
      // The listener and every socket of the warm-up are gone: closed handles leave the list in the
      // loop's close phase, a turn or two after their 'close' events.
      for (let turn = 0; turn < 10 && tcpHandles() > before; turn++) await new Promise((r) => setImmediate(r));
      expect(tcpHandles()).toBe(before);
    }, 30_000);
  }
});

describe('engine warm-up: telemetry', () => {
  const seen = (): WarmTelemetry => ({ publishers: 0, answered: 0, publishes: 0, acks: 0, deliveries: 0 });
  const telemetry = (engine: string, v: 4 | 5, echo: boolean): string =>
    [
      'cohorts:',
      `  - { name: t, share: 100%, device: { mqttVersion: ${v === 5 ? 5 : "'3.1.1'"}, engine: ${engine},`,
      `      publish: { every: 10s, qos: 1, echo: ${echo}, payloadBytes: 100 } } }`,
    ].join('\n');

  for (const engine of engines())
    for (const v of [4, 5] as const)
      for (const echo of [true, false])
        it(`${engine}, MQTT ${v === 5 ? 5 : '3.1.1'}, QoS 1${echo ? ' with echo' : ''}: every device publishes and is answered`, async () => {
          const before = tcpHandles();
          const t = seen();
          const w = await warmEngine(spec(scenario(telemetry(engine, v, echo)), 120), t);
          // Every device connected, and the round lasted until each had WARM_PUBLISHES publishes
          // acknowledged (and delivered back with echo): devices publish on while others catch up.
          expect([w?.handshakes, t.answered, t.publishers]).toEqual([120, 120, 120]);
          expect(t.acks).toBeGreaterThanOrEqual(120 * WARM_PUBLISHES);
          expect(t.publishes).toBeGreaterThanOrEqual(t.acks);
          if (echo) expect(t.deliveries).toBeGreaterThanOrEqual(120 * WARM_PUBLISHES);
          else expect(t.deliveries).toBe(0);
          // What reaches the run's results (health.workers[].warmUp) is the handshakes and the time alone.
          expect(Object.keys(w ?? {})).toEqual(['handshakes', 'elapsedMs']);
          expect(targetConnections).toBe(0);
          for (let turn = 0; turn < 10 && tcpHandles() > before; turn++) await new Promise((r) => setImmediate(r));
          expect(tcpHandles()).toBe(before);
        }, 30_000);

  it('waits for the listener to have the publishes of devices nothing answers (QoS 0, no echo)', async () => {
    const t = seen();
    const q0 =
      'cohorts:\n  - { name: q0, share: 100%, device: { engine: js, publish: { every: 1s, qos: 0, echo: false } } }';
    const w = await warmEngine(spec(scenario(q0), 40), t);
    expect([w?.handshakes, t.answered, t.publishers, t.acks, t.deliveries]).toEqual([40, 0, 40, 0, 0]);
    expect(t.publishes).toBeGreaterThanOrEqual(40 * WARM_PUBLISHES);
    expect(targetConnections).toBe(0);
  }, 30_000);
});

describe('warm-up listener: its side of MQTT', () => {
  /** A raw client of the listener: every packet it is sent, parsed at `v`, and whether it was closed. */
  async function client(l: ThrowawayListener, v: 4 | 5) {
    const s = net.connect(l.port, '127.0.0.1');
    s.setNoDelay(true);
    await new Promise((r) => s.once('connect', r));
    const got: mqtt.Packet[] = [];
    const parser = mqtt.parser({ protocolVersion: v });
    let more: (() => void) | null = null;
    parser.on('packet', (p: mqtt.Packet) => {
      got.push(p);
      more?.();
    });
    s.on('data', (b: Buffer) => parser.parse(b));
    const closed = new Promise<void>((r) => s.once('close', () => r()));
    s.on('error', () => {});
    /** Waits, event by event, until `n` packets have come. */
    const until = async (n: number): Promise<mqtt.Packet[]> => {
      while (got.length < n) await new Promise<void>((r) => (more = r));
      return got;
    };
    return { s, got, until, closed };
  }
  const bytes = (v: 4 | 5, ...p: mqtt.Packet[]): Buffer =>
    Buffer.concat(p.map((x) => mqtt.generate(x, { protocolVersion: v })));
  const pub = (topic: string, qos: 0 | 1 | 2, messageId?: number): mqtt.IPublishPacket => ({
    cmd: 'publish',
    topic,
    payload: Buffer.from('hello'),
    qos,
    dup: false,
    retain: false,
    ...(messageId === undefined ? {} : { messageId }),
  });
  const sub = (messageId: number, ...s: [string, 0 | 1 | 2][]): mqtt.ISubscribePacket => ({
    cmd: 'subscribe',
    messageId,
    subscriptions: s.map(([topic, qos]) => ({ topic, qos })),
  });
  const summary = (p: mqtt.Packet): unknown[] =>
    p.cmd === 'publish'
      ? [p.cmd, p.topic, p.qos, p.payload.toString()]
      : [p.cmd, 'messageId' in p ? p.messageId : null];

  let l: ThrowawayListener;
  beforeAll(async () => {
    l = await ThrowawayListener.open();
  });
  afterAll(() => l.close());

  for (const v of [4, 5] as const)
    for (const split of [false, true])
      it(`MQTT ${v === 5 ? 5 : '3.1.1'}, packets ${split ? 'split byte by byte' : 'coalesced in one write'}`, async () => {
        const c = await client(l, v);
        const all = Buffer.concat([
          connect(v),
          bytes(v, sub(1, ['dev/7/t', 1]), pub('dev/7/t', 1, 5), pub('other', 1, 6), pub('dev/7/t', 0)),
          bytes(v, { cmd: 'pingreq' }),
        ]);
        if (!split) c.s.write(all);
        else for (const b of all) await new Promise((r) => c.s.write(Buffer.of(b), r));
        const got = await c.until(7);
        expect(got.map(summary)).toEqual([
          ['connack', null],
          ['suback', 1],
          ['puback', 5],
          ['publish', 'dev/7/t', 1, 'hello'],
          ['puback', 6],
          ['publish', 'dev/7/t', 0, 'hello'],
          ['pingresp', null],
        ]);
        expect(got[0]).toMatchObject(v === 5 ? { reasonCode: 0 } : { returnCode: 0 });
        expect(got[1]).toMatchObject({ granted: [1] });
        c.s.write(bytes(v, { cmd: 'disconnect' }));
        await c.closed; // the listener closed first
      });

  it('delivers through wildcards at the granted QoS, and carries QoS 2 through PUBREC…PUBCOMP', async () => {
    const c = await client(l, 4);
    c.s.write(Buffer.concat([connect(4), bytes(4, sub(2, ['a/+/c', 0], ['x/#', 2]), pub('a/b/c', 1, 1))]));
    c.s.write(bytes(4, pub('x/y/z', 2, 2), pub('a/b', 1, 3), { cmd: 'pubrel', messageId: 2 }));
    const got = await c.until(8);
    expect(got.map(summary)).toEqual([
      ['connack', null],
      ['suback', 2],
      ['puback', 1],
      ['publish', 'a/b/c', 0, 'hello'],
      ['pubrec', 2],
      ['publish', 'x/y/z', 2, 'hello'],
      ['puback', 3],
      ['pubcomp', 2],
    ]);
    expect(got[1]).toMatchObject({ granted: [0, 2] });
    const id = (got[5] as mqtt.IPublishPacket).messageId as number;
    c.s.write(bytes(4, { cmd: 'pubrec', messageId: id }));
    expect((await c.until(9)).slice(8).map(summary)).toEqual([['pubrel', id]]);
    c.s.write(bytes(4, { cmd: 'pubcomp', messageId: id }, { cmd: 'disconnect' }));
    await c.closed;
  });

  const hostile: [string, Buffer][] = [
    ['a PUBLISH before any CONNECT', bytes(4, pub('t', 0))],
    ['a second CONNECT', Buffer.concat([connect(4), connect(4)])],
    ['a malformed length', Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x01])],
    ['a packet longer than it takes (nothing buffered for it)', Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f])],
    ['a server’s packet', Buffer.concat([connect(4), Buffer.from([0x20, 0x02, 0x00, 0x00])])],
  ];
  for (const [what, b] of hostile)
    it(`ends the connection on ${what}`, async () => {
      const c = await client(l, 4);
      c.s.write(b);
      await c.closed;
      expect(c.got.filter((p) => p.cmd !== 'connack')).toEqual([]);
    });

  it('matches topic filters as MQTT does', () => {
    const m = (f: string, t: string): boolean => topicMatches(f, t);
    expect([
      m('a/b', 'a/b'),
      m('a/+', 'a/b'),
      m('a/+', 'a/b/c'),
      m('a/#', 'a'),
      m('a/#', 'a/b/c'),
      m('#', 'x'),
    ]).toEqual([true, true, false, true, true, true]);
    expect([m('+/b', '$SYS/b'), m('#', '$SYS'), m('a/b', 'a/c'), m('+', ''), m('a/+/c', 'a//c')]).toEqual([
      false,
      false,
      false,
      true,
      true,
    ]);
  });
});
