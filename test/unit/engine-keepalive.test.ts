/**
 * The keepalive rule (docs/metrics.md, "Keepalive") on a fake clock with exact µs: one PINGREQ per
 * interval K, never two outstanding; KEEPALIVE_TIMEOUT exactly K after an unanswered one; turns of
 * earlier sessions dropped, so after 20 reconnects a device still pings once per interval; K = 0
 * means none. The last test runs a real MqttConnection against a loopback server that never
 * answers PINGREQ, with the engine on the fake clock.
 */
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import type { Failure } from '../../src/protocols/classify.js';
import { buildConnect } from '../../src/protocols/mqtt/connect-packet.js';
import type { Device } from '../../src/protocols/device.js';
import { prepareTarget } from '../../src/protocols/kinds.js';
import { openMqtt } from '../../src/protocols/mqtt/kind.js';
import { openWebSocket } from '../../src/protocols/ws/kind.js';
import { KeepaliveWheel, keepaliveSeconds } from '../../src/engine/keepalive.js';
import { HerdError } from '../../src/errors.js';
import { validateScenario } from '../../src/scenario/validate.js';
import { startEngine, type FakeTarget } from '../helpers/engine.js';
import { startSilentBroker, type SilentBroker } from '../helpers/silent-broker.js';

const SILENT: FakeTarget = { handshakeUs: () => 0, pingAnswerUs: () => null, closeUs: 1_000 };
const ANSWERS: FakeTarget = { handshakeUs: () => 0, pingAnswerUs: () => 5_000, closeUs: 1_000 };
const RESET: Failure = { origin: 'network', phase: 'held', code: 'ECONNRESET' };

describe('engine: keepalive', () => {
  it('a PINGREQ at 27.0 s unanswered → KEEPALIVE_TIMEOUT at exactly 57.0 s (K = 30 s)', async () => {
    // Connected at 26.0 s; slot 0's first turn is 1 s after CONNECT.
    const e = startEngine(
      {
        devices: 1,
        device: { keepalive: '30s' },
        reconnect: { policy: 'none' },
        waves: [{ type: 'spike', at: '26s' }],
        hold: '40s',
      },
      SILENT,
    );
    e.to(56_999_999);
    const d = e.opened[0]?.[0];
    expect(d?.readyUs).toBe(26_000_000);
    expect(d?.pings).toEqual([27_000_000]);
    expect(d?.state).toBe('connected');
    e.to(57_000_000);
    expect(d?.lostAtUs).toBe(57_000_000);
    expect(d?.lostWith).toEqual({ origin: 'network', phase: 'held', code: 'KEEPALIVE_TIMEOUT' });
    e.to(70e6);
    await e.end;
    expect(e.clock.pending).toBe(0); // nothing left scheduled
    expect(d?.pings).toEqual([27_000_000]);
    expect(e.errors()).toEqual({ 'network|held|KEEPALIVE_TIMEOUT': 1 });
    expect(e.counter('disconnects')).toBe(1);
    expect(e.counter('gaveUp')).toBe(1);
    expect(e.deltas.find((x) => x.errors['network|held|KEEPALIVE_TIMEOUT'])?.t).toBe(57);
  });

  it('an answered session pings exactly once every K (K = 5 s), from 1 s after CONNECT', async () => {
    const e = startEngine(
      { devices: 1, device: { keepalive: '5s' }, waves: [{ type: 'spike' }], hold: '30s' },
      ANSWERS,
    );
    e.to(40e6);
    await e.end;
    expect(e.clock.pending).toBe(0); // nothing left scheduled
    expect(e.opened[0]?.[0]?.pings).toEqual([1e6, 6e6, 11e6, 16e6, 21e6, 26e6]);
    expect(e.errors()).toEqual({});
  });

  it('after 20 reconnects a device still sends exactly one PINGREQ per interval', async () => {
    const e = startEngine(
      {
        devices: 1,
        device: { keepalive: '5s' },
        reconnect: { policy: 'fixed', delay: '100ms', jitter: 'none' },
        waves: [{ type: 'spike' }],
        hold: '60s',
      },
      ANSWERS,
    );
    // The peer drops the session at 2.5 s, 3.5 s … 21.5 s; each time the device is back 100 ms later.
    for (let i = 0; i < 20; i++) {
      e.to(2_500_000 + i * 1_000_000);
      e.opened[0]?.at(-1)?.lose(RESET);
    }
    e.to(70e6);
    await e.end;
    expect(e.clock.pending).toBe(0); // nothing left scheduled
    const sessions = e.opened[0] ?? [];
    expect(sessions).toHaveLength(21);
    expect(sessions.at(-1)?.readyUs).toBe(21_600_000);
    // Session 1 pinged at 1 s; sessions 2–20 lived under 1 s (no turn); session 21 from 23 s, every 5 s.
    const all = sessions.flatMap((s) => s.pings).sort((a, b) => a - b);
    expect(all).toEqual([1e6, 23e6, 28e6, 33e6, 38e6, 43e6, 48e6, 53e6, 58e6]);
    expect(e.errors()).toEqual({ 'network|held|ECONNRESET': 20 });
  });

  it('keepalive 0 s: no pings and no timeout', async () => {
    const e = startEngine(
      { devices: 2, device: { keepalive: '0s' }, waves: [{ type: 'spike' }], hold: '120s' },
      SILENT,
    );
    e.to(130e6);
    await e.end;
    expect(e.clock.pending).toBe(0); // nothing left scheduled
    expect(e.opened.flat().flatMap((d) => d.pings)).toEqual([]);
    expect(e.errors()).toEqual({});
    expect(e.opened.flat().map((d) => d.endedHow)).toEqual(['end', 'end']);
  });
});

describe('engine: keepalive through a real MqttConnection', () => {
  let broker: SilentBroker;
  beforeAll(async () => {
    broker = await startSilentBroker();
  });
  afterAll(async () => {
    await broker.close();
  });

  it('against a loopback server that never answers PINGREQ: one PINGREQ, KEEPALIVE_TIMEOUT K later on the fake clock', async () => {
    const target = prepareTarget('mqtt', broker.url);
    let device: Device | null = null;
    let lost: { atUs: number; f: Failure } | null = null;
    const e = startEngine(
      {
        devices: 1,
        device: { keepalive: '5s' },
        reconnect: { policy: 'none' },
        waves: [{ type: 'spike' }],
        hold: '20s',
      },
      SILENT,
      {
        open: (slot, owner, clock) => {
          // The real device, reporting to the engine through a tap that notes what it reported.
          const tap = Object.create(owner) as typeof owner;
          tap.onLost = (c, f) => {
            lost = { atUs: clock.nowUs(), f };
            owner.onLost(c, f);
          };
          device = openMqtt(
            target,
            {
              deviceId: slot,
              localAddress: undefined,
              connectTimeoutMs: 5_000,
              maxPacketBytes: 65_536,
              connectPacket: buildConnect({
                clientId: 'ka-real',
                username: null,
                password: null,
                keepaliveS: 5,
                clean: true,
                protocolVersion: 4,
              }),
            },
            tap,
          );
          return device;
        },
      },
    );
    await until('CONNACK', () => device?.state === 'connected');
    expect(device!.readyUs).toBe(0); // the fake clock has not moved
    const conn = broker.connections.find((c) => c.clientId === 'ka-real');
    expect(conn?.keepaliveS).toBe(5);
    e.to(1_000_000);
    await until('PINGREQ', () => (conn?.pingreqAtMs.length ?? 0) === 1);
    expect(device!.pingSentUs).toBe(1_000_000);
    e.to(5_999_999);
    expect(device!.state).toBe('connected');
    e.to(6_000_000);
    expect(lost).toEqual({ atUs: 6_000_000, f: { origin: 'network', phase: 'held', code: 'KEEPALIVE_TIMEOUT' } });
    await until('the close at the server', () => conn?.closedAtMs !== null);
    e.to(30e6);
    await e.end;
    expect(e.clock.pending).toBe(0); // nothing left scheduled
    expect(conn?.pingreqAtMs).toHaveLength(1);
    expect(e.errors()).toEqual({ 'network|held|KEEPALIVE_TIMEOUT': 1 });
  });
});

describe('engine: keepalive through a real plain WebSocket device', () => {
  it('against a loopback server that never pongs: one ping frame, KEEPALIVE_TIMEOUT K later on the fake clock', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, autoPong: false });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    const pingsAt: number[] = [];
    let closed = false;
    wss.on('connection', (sock) => {
      sock.on('ping', () => pingsAt.push(Date.now()));
      sock.on('close', () => (closed = true));
    });
    try {
      const target = prepareTarget('websocket', `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`);
      let device: Device | null = null;
      const e = startEngine(
        {
          devices: 1,
          device: { keepalive: '3s' },
          reconnect: { policy: 'none' },
          waves: [{ type: 'spike' }],
          hold: '20s',
        },
        SILENT,
        {
          open: (slot, owner) => {
            device = openWebSocket(
              target,
              { deviceId: slot, localAddress: undefined, connectTimeoutMs: 5_000, maxPacketBytes: 65_536 },
              owner,
            );
            return device;
          },
        },
      );
      await until('the upgrade', () => device?.state === 'connected');
      e.to(1_000_000);
      await until('the ping frame', () => pingsAt.length === 1);
      expect(device!.pingSentUs).toBe(1_000_000);
      e.to(3_999_999);
      expect(device!.state).toBe('connected');
      e.to(4_000_000);
      expect(device!.state).toBe('closed');
      await until('the close at the server', () => closed);
      e.to(30e6);
      await e.end;
      expect(e.clock.pending).toBe(0); // nothing left scheduled
      expect(pingsAt).toHaveLength(1);
      expect(e.errors()).toEqual({ 'network|held|KEEPALIVE_TIMEOUT': 1 });
    } finally {
      await new Promise<void>((r) => wss.close(() => r()));
    }
  });
});

async function until(what: string, cond: () => boolean, limitMs = 5_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

describe('keepalive: what CONNECT carries is what the wheel times (issue 22)', () => {
  // The CONNECT of MQTT 3.1.1: fixed header (2 bytes here), "MQTT" (6), level, flags, then Keep Alive.
  const wireS = (keepaliveUs: number): number =>
    buildConnect({
      clientId: 'k',
      username: null,
      password: null,
      keepaliveS: keepaliveSeconds(keepaliveUs),
      clean: true,
      protocolVersion: 4,
    }).readUInt16BE(10);

  it('K = 3 s: CONNECT says 3 and the device pings at exactly 1 s, 4 s, 7 s after a CONNECT at 0', async () => {
    expect(wireS(3e6)).toBe(3);
    expect(new KeepaliveWheel(3e6).intervalS).toBe(3);
    const e = startEngine({ devices: 1, device: { keepalive: '3s' }, waves: [{ type: 'spike' }], hold: '8s' }, ANSWERS);
    e.to(20e6);
    await e.end;
    expect(e.opened[0]?.[0]?.pings).toEqual([1e6, 4e6, 7e6]);
  });

  it('K = 0: CONNECT says 0 and nothing is timed', () => {
    expect(wireS(0)).toBe(0);
    expect(new KeepaliveWheel(0).intervalS).toBe(0);
  });

  it('a fraction of a second never reaches either side: exit 2 naming device.keepalive', () => {
    // 1.4 s used to go out as 1 and be timed as 2; 0.4 s went out as 0 (off) yet pinged every second.
    for (const k of ['1.4s', '0.4s', '1500ms', '999ms']) {
      let err: unknown;
      try {
        validateScenario({ name: 'k', devices: 1, device: { keepalive: k }, waves: [{ type: 'spike' }] }, 'k.yaml');
      } catch (e) {
        err = e;
      }
      expect(err, k).toBeInstanceOf(HerdError);
      expect((err as HerdError).exitCode).toBe(2);
      expect((err as HerdError).details.join('\n')).toContain('device.keepalive: expected whole seconds');
    }
  });
});
