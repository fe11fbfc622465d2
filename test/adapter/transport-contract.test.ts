/**
 * The one contract every transport keeps, run for mqtt://, mqtts://, ws:// and wss:// against an
 * aedes broker started here (MQTT 3.1.1) and against Mosquitto (MQTT 3.1.1 and 5), all on
 * loopback ports picked by the kernel. The native storm core (when built) keeps the same contract
 * over mqtt:// and mqtts:// for everything it implements (it carries no telemetry).
 */
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { Aedes } from 'aedes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type { PreparedTarget } from '../../src/protocols/device.js';
import { DEVICE_KIND_ROWS, prepareTarget } from '../../src/protocols/kinds.js';
import { buildConnect } from '../../src/protocols/mqtt/connect-packet.js';
import { MqttConnection } from '../../src/protocols/mqtt/connection.js';
import type { NativeDevice } from '../../src/protocols/native/device.js';
import { decodePayload, writeStamp } from '../../src/protocols/payload.js';
import type { TransportScheme } from '../../src/protocols/registry.js';
import { DeliveryTracker } from '../../src/metrics/delivery.js';
import { externalProgram } from '../helpers/external.js';
import { startMosquittoListeners, type MosquittoMulti } from '../helpers/mosquitto.js';
import { engines } from '../helpers/native.js';
import { RecordingOwner } from './protocol-owner.js';

const TLS_DIR = new URL('../../fixtures/tls/', import.meta.url).pathname;
const CA = `${TLS_DIR}ca.crt`;
const SERVER_CERT = readFileSync(`${TLS_DIR}server.crt`);
const SERVER_KEY = readFileSync(`${TLS_DIR}server.key`);
const SCHEMES: TransportScheme[] = ['mqtt', 'mqtts', 'ws', 'wss'];
type Engine = 'js' | 'native';
/** Every transport on the JavaScript path, and TCP and TLS on the native core when it is built. */
const LANES: [TransportScheme, Engine][] = [
  ...SCHEMES.map((s): [TransportScheme, Engine] => [s, 'js']),
  ...engines()
    .filter((e) => e === 'native')
    .flatMap((e): [TransportScheme, Engine][] => [
      ['mqtt', e],
      ['mqtts', e],
    ]),
];

interface Servers {
  ports: Record<TransportScheme, number>;
  stop(): Promise<void>;
}

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return (server.address() as net.AddressInfo).port;
}

/** aedes behind TCP, TLS, WebSocket and WebSocket-over-TLS servers. */
async function startAedes(): Promise<Servers> {
  const aedes = await Aedes.createBroker();
  aedes.authenticate = (_client, username, _password, done) => {
    if (username === 'refuse-me') done(Object.assign(new Error('refused'), { returnCode: 4 }) as never, false);
    else done(null, true);
  };
  aedes.on('clientError', () => {});
  aedes.on('connectionError', () => {});
  const sockets = new Set<net.Socket>();
  const track = (s: net.Socket): void => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
  };
  const tcp = net.createServer((s) => {
    track(s);
    aedes.handle(s);
  });
  const secure = tls.createServer({ cert: SERVER_CERT, key: SERVER_KEY }, (s) => {
    track(s);
    aedes.handle(s);
  });
  const web = http.createServer();
  const webs = https.createServer({ cert: SERVER_CERT, key: SERVER_KEY });
  for (const srv of [web, webs]) {
    srv.on('connection', track);
    const wss = new WebSocketServer({ server: srv });
    wss.on('connection', (ws) => {
      const stream = createWebSocketStream(ws);
      stream.on('error', () => {});
      aedes.handle(stream as unknown as net.Socket);
    });
  }
  const ports = {
    mqtt: await listen(tcp),
    mqtts: await listen(secure),
    ws: await listen(web),
    wss: await listen(webs),
  };
  return {
    ports,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await Promise.all([tcp, secure, web, webs].map((s) => new Promise<void>((r) => s.close(() => r()))));
      await new Promise<void>((r) => aedes.close(() => r()));
    },
  };
}

let nextId = 0;

/** A CONNECT with credentials the servers here refuse (aedes: authenticate hook; Mosquitto: no password file). */
function refusedConnect(version: 4 | 5): Buffer {
  return buildConnect({
    clientId: `herd-refused-${process.pid}-${nextId}`,
    username: 'refuse-me',
    password: 'x',
    keepaliveS: 30,
    clean: true,
    protocolVersion: version,
  });
}

type Opened = MqttConnection | NativeDevice;

function open(
  target: PreparedTarget,
  owner: RecordingOwner,
  version: 4 | 5,
  connectPacket?: Buffer,
  engine: Engine = 'js',
): Opened {
  const id = nextId++;
  return DEVICE_KIND_ROWS.mqtt.open(
    target,
    {
      engine,
      deviceId: id,
      localAddress: undefined,
      connectTimeoutMs: 5_000,
      maxPacketBytes: 64 * 1024,
      connectPacket:
        connectPacket ??
        buildConnect({
          clientId: `herd-contract-${process.pid}-${id}`,
          username: null,
          password: null,
          keepaliveS: 30,
          clean: true,
          protocolVersion: version,
        }),
    },
    owner,
  );
}

async function connected(
  target: PreparedTarget,
  owner: RecordingOwner,
  version: 4 | 5,
  engine: Engine = 'js',
): Promise<Opened> {
  const c = open(target, owner, version, undefined, engine);
  const r = await owner.outcome(c.deviceId);
  expect(r.failure).toBeUndefined();
  expect(r.kind).toBe('connected');
  return c;
}

/** A session on the JavaScript path (telemetry is not the native core's). */
async function connectedJs(target: PreparedTarget, owner: RecordingOwner, version: 4 | 5): Promise<MqttConnection> {
  const c = await connected(target, owner, version);
  if (!(c instanceof MqttConnection)) throw new Error('engine js did not open an MqttConnection');
  return c;
}

async function endAndWait(owner: RecordingOwner, ...cs: Opened[]): Promise<void> {
  for (const c of cs) c.end();
  await Promise.all(cs.map((c) => owner.waitKind('closed', c.deviceId)));
}

/** The contract: every transport passes the same cases. */
function contract(
  label: string,
  version: 4 | 5,
  targetFor: (scheme: TransportScheme) => PreparedTarget,
  refusal: { targetFor: (scheme: TransportScheme) => PreparedTarget; code: string },
): void {
  describe.each(LANES)(`${label} over %s:// (%s)`, (scheme, engine) => {
    it('connects with every phase timed, present and in order', async () => {
      const owner = new RecordingOwner();
      const t = targetFor(scheme);
      const c = await connected(t, owner, version, engine);
      const secure = scheme === 'mqtts' || scheme === 'wss';
      const web = scheme === 'ws' || scheme === 'wss';
      const p = c.phaseTimes();
      expect('dnsUs' in p).toBe(false); // an IP was given
      expect(p.tcpConnectUs).toBeGreaterThanOrEqual(0);
      expect(p.tlsHandshakeUs === undefined).toBe(!secure);
      expect(p.wsUpgradeUs === undefined).toBe(!web);
      expect(p.mqttConnackUs).toBeGreaterThanOrEqual(0);
      expect(c.socketOpenUs).toBeLessThanOrEqual(c.tcpConnectedUs);
      // Only the JavaScript path has WebSocket lanes (the native core takes TCP and TLS).
      const js = c instanceof MqttConnection ? c : null;
      expect(js === null).toBe(engine === 'native');
      const steps = [
        c.tcpConnectedUs,
        ...(secure ? [c.tlsDoneUs] : []),
        ...(web ? [js!.wsUpgradedUs] : []),
        c.connackUs,
      ];
      for (let i = 1; i < steps.length; i++) expect(steps[i]).toBeGreaterThanOrEqual(steps[i - 1] as number);
      expect(p.serviceUs).toBe(c.connackUs - c.socketOpenUs);
      expect(c.tlsResumed).toBe(secure ? false : null);
      await endAndWait(owner, c);
    });

    it('keeps alive: PINGREQ is answered by PINGRESP', async () => {
      const owner = new RecordingOwner();
      const c = await connected(targetFor(scheme), owner, version, engine);
      c.ping();
      expect(Number.isNaN(c.pingSentUs)).toBe(false);
      await owner.waitFor(() => Number.isNaN(c.pingSentUs), 5_000, 'PINGRESP');
      await endAndWait(owner, c);
    });

    it.skipIf(engine === 'native')(
      'round-trips publish/subscribe at QoS 0, 1 and 2 with acknowledgement latencies',
      async () => {
        const owner = new RecordingOwner();
        const t = targetFor(scheme);
        const sub = await connectedJs(t, owner, version);
        const pub = await connectedJs(t, owner, version);
        const topic = `herd/contract/${process.pid}/${sub.deviceId}`;
        const sid = sub.subscribe([topic], 2);
        expect(sid).toBeGreaterThan(0);
        const [suback] = await owner.waitKind('subscribed', sub.deviceId);
        expect(suback?.granted).toEqual([2]);
        expect(suback?.latencyUs).toBeGreaterThanOrEqual(0);
        const tracker = new DeliveryTracker();
        // One buffer restamped for every publish, as telemetry does: publish() must copy it before
        // it returns, so what was written, not what the buffer holds later, goes out.
        const payload = Buffer.alloc(64);
        for (const qos of [0, 1, 2] as const) {
          writeStamp(payload, pub.deviceId, qos, owner.now());
          const id = pub.publish(topic, payload, qos);
          if (qos === 0) expect(id).toBe(0);
          else expect(id).toBeGreaterThan(0);
          tracker.recordSent(String(pub.deviceId));
        }
        payload.fill(0xff);
        const acks = await owner.waitKind('published', pub.deviceId, 2);
        expect(acks.map((a) => [a.qos, a.reasonCode])).toEqual([
          [1, 0],
          [2, 0],
        ]);
        const msgs = await owner.waitKind('message', sub.deviceId, 3);
        for (const m of msgs) {
          const stamp = decodePayload(m.message!.payload);
          expect(stamp).not.toBeNull();
          tracker.recordReceived(String(stamp!.deviceId), stamp!.seq, m.message!.receivedUs - stamp!.sentUs);
        }
        expect(msgs.map((m) => m.message!.qos).sort()).toEqual([0, 1, 2]);
        // MQTT orders messages per QoS level only, so out-of-order across levels is allowed here.
        expect(tracker.summary()).toMatchObject({ sent: 3, delivered: 3, lost: 0, duplicated: 0, tooLate: 0 });
        expect(pub.inflight?.outboundCount).toBe(0);
        // PUBREL releases the inbound QoS 2 id (it may trail the PUBLISH a little).
        await owner.waitFor(() => sub.inflight?.inboundCount === 0, 5_000, 'PUBREL');
        await endAndWait(owner, sub, pub);
      },
    );

    it('ends cleanly: DISCONNECT, and the server closes first', async () => {
      const owner = new RecordingOwner();
      const c = await connected(targetFor(scheme), owner, version, engine);
      c.end();
      await owner.waitKind('closed', c.deviceId);
      expect(c.endedBy).toBe('peer');
      expect(owner.of('lost')).toEqual([]);
    });

    it('reports a refused CONNECT as data, with its return/reason code', async () => {
      const owner = new RecordingOwner();
      const c = open(refusal.targetFor(scheme), owner, version, refusedConnect(version), engine);
      const r = await owner.outcome(c.deviceId);
      expect(r.kind).toBe('failed');
      expect(r.failure).toEqual({ origin: 'protocol', phase: 'mqttConnack', code: refusal.code });
      await owner.waitFor(() => c.state === 'closed', 5_000, 'closed');
    });
  });
}

describe('aedes (MQTT 3.1.1)', () => {
  let servers: Servers;
  const targets = new Map<TransportScheme, PreparedTarget>();
  beforeAll(async () => {
    servers = await startAedes();
    for (const s of SCHEMES) {
      targets.set(
        s,
        prepareTarget(
          'mqtt',
          `${s}://127.0.0.1:${servers.ports[s]}/mqtt`,
          s === 'mqtts' || s === 'wss' ? { ca: CA } : undefined,
        ),
      );
    }
  });
  afterAll(async () => servers?.stop());
  const t = (s: TransportScheme): PreparedTarget => targets.get(s) as PreparedTarget;
  contract('aedes', 4, t, { targetFor: t, code: 'CONNACK_04' });
});

const mosquitto = externalProgram('mosquitto');

describe.skipIf(!mosquitto)('Mosquitto', () => {
  let m: MosquittoMulti;
  const targets = new Map<string, PreparedTarget>();
  beforeAll(async () => {
    const tlsFiles = { cafile: CA, certfile: `${TLS_DIR}server.crt`, keyfile: `${TLS_DIR}server.key` };
    // Listeners named "<scheme>-closed" admit nobody (no anonymous access, no password file).
    m = await startMosquittoListeners(
      mosquitto as string,
      SCHEMES.flatMap((s) =>
        [true, false].map((open) => ({
          name: open ? s : `${s}-closed`,
          protocol: s === 'ws' || s === 'wss' ? ('websockets' as const) : ('mqtt' as const),
          ...(s === 'mqtts' || s === 'wss' ? { tls: tlsFiles } : {}),
          extra: [`allow_anonymous ${open}`],
        })),
      ),
      ['per_listener_settings true'],
    );
    for (const s of SCHEMES) {
      for (const name of [s, `${s}-closed`]) {
        targets.set(
          name,
          prepareTarget(
            'mqtt',
            `${s}://127.0.0.1:${m.ports[name]}/mqtt`,
            s === 'mqtts' || s === 'wss' ? { ca: CA } : undefined,
          ),
        );
      }
    }
  });
  afterAll(async () => m?.stop());
  const t = (s: TransportScheme): PreparedTarget => targets.get(s) as PreparedTarget;
  const closed = (s: TransportScheme): PreparedTarget => targets.get(`${s}-closed`) as PreparedTarget;
  contract('Mosquitto MQTT 3.1.1', 4, t, { targetFor: closed, code: 'CONNACK_05' });
  contract('Mosquitto MQTT 5', 5, t, { targetFor: closed, code: 'CONNACK_87' });
});
