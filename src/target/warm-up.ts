/**
 * The embedded target's warm-up. A fresh target process answered its first CONNECTs 55–90 ms late
 * (10 devices at once, every later run against the same process ~5 ms): aedes, mqtt-packet and the
 * front layer paying their first calls — lazy compilation, modules loaded on first use. That is
 * the process starting, not the behaviour the target models, and it landed in every run's first
 * connects. So before its listeners open, each target process serves a few rounds of
 * CONNECT → CONNACK → DISCONNECT (MQTT 3.1.1 straight to aedes, MQTT 5 through the bridge) over
 * loopback sockets of its own, to a throwaway broker behind a throwaway front layer: its own
 * metrics, admission, throttle and client registry, none of them the run's, so nothing of it is
 * counted anywhere. Bounded in rounds and in time; a round that fails ends its lane (8 run side by side).
 */
import * as net from 'node:net';
import * as mqtt from 'mqtt-packet';
import { Admission } from './admission.js';
import { createBroker } from './broker.js';
import { emptySnapshot } from './metrics.js';
import { handleMqttStream, type FrontContext } from './mqtt-front.js';
import { ServiceQueue } from './service.js';
import { ClientRegistry, ConnectThrottle } from './throttle.js';

export const WARM_UP_ROUNDS = 32;
const IN_FLIGHT = 8;
/** The whole warm-up gives up after this long: a target never waits on it to start. */
const WARM_UP_BOUND_MS = 5_000;

const DISCONNECT = Buffer.from([0xe0, 0x00]);

/** Serves up to `rounds` warm-up rounds on `host` within `boundMs`; resolves to how many completed. */
export async function warmUpTarget(host: string, rounds = WARM_UP_ROUNDS, boundMs = WARM_UP_BOUND_MS): Promise<number> {
  const timers = {
    nowMs: () => performance.now(),
    after: (ms: number, fn: () => void) => {
      const t = setTimeout(fn, ms);
      return () => clearTimeout(t);
    },
  };
  const metrics = emptySnapshot(-1, process.pid);
  const aedes = await createBroker({
    messageLossRate: 0,
    lossSeed: 0,
    metrics,
    silenced: new WeakSet<object>(),
    swallowing: () => false,
    webhook: null,
  });
  const front: FrontContext = {
    admission: new Admission(null, timers),
    service: new ServiceQueue(0, false, timers),
    connectTimeoutMs: boundMs,
    metrics,
    handoff: (stream) => aedes.handle(stream as net.Socket),
    throttle: new ConnectThrottle(null, 1, performance.now()),
    clients: new ClientRegistry(),
    bridge: { publishesPerS: null, publishThrottle: 'drop', keepaliveMaxS: null },
    nowMs: () => performance.now(),
  };
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ noDelay: true }, (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    handleMqttStream(s, front);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  const deadline = performance.now() + boundMs;
  let next = 0;
  let done = 0;
  const lane = async (): Promise<void> => {
    while (next < rounds && performance.now() < deadline) {
      const i = next++;
      if (!(await round(host, port, i, deadline - performance.now(), sockets))) return;
      done++;
    }
  };
  try {
    await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  } finally {
    for (const s of sockets) s.destroy();
    front.admission.close();
    front.service.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
  }
  return done;
}

/** One device's round: CONNECT, its CONNACK, DISCONNECT, the close. False when it did not go so. */
function round(host: string, port: number, i: number, leftMs: number, sockets: Set<net.Socket>): Promise<boolean> {
  const protocolVersion = i % 2 === 0 ? 4 : 5;
  const connect = mqtt.generate(
    { cmd: 'connect', protocolId: 'MQTT', protocolVersion, clientId: `herd-warm-up-${i}`, clean: true, keepalive: 0 },
    { protocolVersion },
  );
  return new Promise((resolve) => {
    const c = net.connect({ host, port, noDelay: true });
    sockets.add(c);
    let acked = false;
    const timer = setTimeout(() => c.destroy(), Math.max(0, leftMs));
    c.on('connect', () => c.write(connect));
    c.on('data', (d: Buffer) => {
      // A CONNACK (0x20) with return / reason code 0 (its fourth byte, in both versions).
      if (acked || d[0] !== 0x20 || d[3] !== 0) return;
      acked = true;
      c.end(DISCONNECT);
    });
    c.on('error', () => {});
    c.on('close', () => {
      clearTimeout(timer);
      sockets.delete(c);
      resolve(acked);
    });
  });
}
