/**
 * A target given by host name, on the JavaScript path and on the native core (when built): with no
 * answer kept (device.dnsTtl 0) the name is looked up on every attempt — a `dns` phase before TCP,
 * counted in the attempt's service time; with one kept, attempts at once share one lookup and later
 * attempts use its answer with no `dns` phase; a name that does not resolve fails in that phase,
 * with the same code on both engines. Against aedes on loopback; `localhost` must resolve to
 * 127.0.0.1 here, else there is nothing to reach.
 */
import { lookup } from 'node:dns/promises';
import * as net from 'node:net';
import { Aedes } from 'aedes';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Device, PreparedTarget } from '../../src/protocols/device.js';
import { DEVICE_KIND_ROWS, prepareTarget } from '../../src/protocols/kinds.js';
import { buildConnect } from '../../src/protocols/mqtt/connect-packet.js';
import { MqttConnection } from '../../src/protocols/mqtt/connection.js';
import { closeNativeCore } from '../../src/protocols/native/core.js';
import { engines } from '../helpers/native.js';
import { RecordingOwner } from './protocol-owner.js';

const localhost = await lookup('localhost', { family: 4 }).catch(() => null);
const LOCALHOST_IS_LOOPBACK = localhost?.address === '127.0.0.1';

let owner = new RecordingOwner();
afterEach(() => {
  closeNativeCore(owner);
  owner = new RecordingOwner();
});

function attempt(
  url: string | PreparedTarget,
  engine: 'js' | 'native',
  deviceId: number,
): Device & { dnsDoneUs: number } {
  const connectPacket = buildConnect({
    clientId: `herd-name-${process.pid}-${deviceId}`,
    username: null,
    password: null,
    keepaliveS: 30,
    clean: true,
    protocolVersion: 4,
  });
  const o = { engine, deviceId, localAddress: '127.0.0.1', connectTimeoutMs: 5_000, maxPacketBytes: 65_536 };
  const t = typeof url === 'string' ? prepareTarget('mqtt', url) : url;
  return DEVICE_KIND_ROWS.mqtt.open(t, { ...o, connectPacket }, owner) as Device & {
    dnsDoneUs: number;
  };
}

describe.each(engines())('a target by host name (%s)', (engine) => {
  let port = 0;
  let server: net.Server;
  let aedes: Aedes;
  beforeAll(async () => {
    aedes = await Aedes.createBroker();
    server = net.createServer((s) => aedes.handle(s));
    port = await new Promise<number>((r) =>
      server.listen(0, '127.0.0.1', () => r((server.address() as net.AddressInfo).port)),
    );
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    await new Promise<void>((r) => aedes.close(() => r()));
  });

  it.skipIf(!LOCALHOST_IS_LOOPBACK)(
    'is looked up on each attempt: a dns phase, then TCP to the answer, on the engine asked for',
    async () => {
      for (const id of [0, 1]) {
        const c = attempt(`mqtt://localhost:${port}`, engine, id);
        const r = await owner.outcome(id);
        expect(r.failure).toBeUndefined();
        expect(c instanceof MqttConnection).toBe(engine === 'js');
        const p = c.phaseTimes();
        expect(p.dnsUs).toBe(c.dnsDoneUs - c.socketOpenUs);
        expect(p.dnsUs).toBeGreaterThanOrEqual(0);
        expect(p.tcpConnectUs).toBe(c.tcpConnectedUs - c.dnsDoneUs);
        expect(p.tcpConnectUs).toBeGreaterThanOrEqual(0);
        expect(p.serviceUs).toBe(c.connackUs - c.socketOpenUs);
        c.end();
        await owner.waitKind('closed', id);
      }
    },
  );

  it.skipIf(!LOCALHOST_IS_LOOPBACK)(
    'with its answer kept: attempts at once share one lookup, a later attempt uses the answer with no dns phase',
    async () => {
      const t = prepareTarget('mqtt', `mqtt://localhost:${port}`, undefined, 'target', DEVICE_KIND_ROWS, 60_000_000);
      const first = [20, 21, 22].map((id) => attempt(t, engine, id));
      for (const [k, c] of first.entries()) {
        expect((await owner.outcome(20 + k)).failure).toBeUndefined();
        expect(c.phaseTimes().dnsUs).toBe(c.dnsDoneUs - c.socketOpenUs);
      }
      expect(t.names?.lookups).toBe(1);
      const later = attempt(t, engine, 23);
      expect((await owner.outcome(23)).failure).toBeUndefined();
      const p = later.phaseTimes();
      expect('dnsUs' in p).toBe(false);
      expect(Number.isNaN(later.dnsDoneUs)).toBe(true);
      expect(p.tcpConnectUs).toBe(later.tcpConnectedUs - later.socketOpenUs);
      expect(t.names?.lookups).toBe(1);
      for (const [k, c] of [...first, later].entries()) {
        c.end();
        await owner.waitKind('closed', 20 + k);
      }
    },
  );

  it('a name that does not resolve fails in the dns phase, with the JavaScript path’s code', async () => {
    // The JavaScript path's answer for the same name is the reference (the resolver decides the code).
    const ref = attempt('mqtt://herd-no-such-host.invalid:1883', 'js', 10);
    const want = (await owner.outcome(10)).failure;
    expect(want).toMatchObject({ origin: 'network', phase: 'dns' });
    expect(['ENOTFOUND', 'EAI_AGAIN']).toContain(want?.code);
    expect(ref.state).toBe('closed');
    attempt('mqtt://herd-no-such-host.invalid:1883', engine, 11);
    expect((await owner.outcome(11)).failure).toEqual(want);
  });
});
