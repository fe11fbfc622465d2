/**
 * One embedded target process: aedes behind the gate and the MQTT front layer, on up to four
 * listeners (mqtt, ws with /mqtt and /ws, and with TLS mqtts and wss), plus an HTTP /metrics
 * listener. Everything listens on loopback; port 0 picks free ports.
 */
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { PACKAGE_ROOT } from '../util/paths.js';
import { Admission } from './admission.js';
import { createBroker } from './broker.js';
import { ConnectionGate, type Tracked } from './gate.js';
import {
  emptySnapshot,
  LISTENERS,
  renderExposition,
  type ListenerName,
  type TargetMetricsSnapshot,
} from './metrics.js';
import { SCHEMES } from '../util/target-url.js';
import { handleMqttStream } from './mqtt-front.js';
import { ClientRegistry, ConnectThrottle } from './throttle.js';
import type { ResolvedTargetOptions } from './options.js';
import { OutageSchedule } from './outages.js';
import { LagProbe, type TargetLag } from './lag.js';
import { ServiceQueue } from './service.js';
import { WebhookForwarder } from './webhook.js';
import { upgradeHandler } from './ws-device.js';
import { warmUpTarget } from './warm-up.js';

export interface ProcessEndpoints {
  mqtt: string;
  /** MQTT over WebSocket (path /mqtt). */
  mqttWs: string;
  /** Plain WebSocket device endpoint (path /ws). */
  ws: string;
  mqtts?: string;
  mqttWss?: string;
  wss?: string;
}

export interface RunningTargetProcess {
  index: number;
  host: string;
  /** Port of the MQTT TCP listener. */
  port: number;
  endpoints: ProcessEndpoints;
  metricsUrl: string;
  snapshot(): TargetMetricsSnapshot;
  /** How late the host ran the target's model so far. */
  lag(): TargetLag;
  /** The run origin in performance.now() ms of this process, and the span measured from it (µs; null: open). */
  setOrigin(originPerfMs: number, measuredUs: number | null): void;
  /** Other processes' metrics URLs, merged into this one's /metrics page. */
  setPeers(metricsUrls: string[]): void;
  close(): Promise<void>;
}

export const TLS_FIXTURES = join(PACKAGE_ROOT, 'fixtures', 'tls');
const PEER_SCRAPE_TIMEOUT_MS = 2_000;

/** Listener slots in port order, so a fixed base port gives predictable ports. */
export function listenerSlots(o: Pick<ResolvedTargetOptions, 'tls'>): Array<ListenerName | 'metrics'> {
  const plain = LISTENERS.filter((s) => !SCHEMES[s].secure);
  return [...plain, ...(o.tls ? LISTENERS.filter((s) => SCHEMES[s].secure) : []), 'metrics'];
}

export function portFor(
  o: Pick<ResolvedTargetOptions, 'tls' | 'port' | 'fixedPorts'>,
  index: number,
  slot: ListenerName | 'metrics',
): number {
  const fixed = o.fixedPorts?.[index]?.[slot as 'mqtt'];
  if (fixed !== undefined) return fixed;
  if (o.port === 0) return 0;
  const slots = listenerSlots(o);
  return o.port + index * slots.length + slots.indexOf(slot);
}

function listen(server: net.Server, host: string, port: number, backlog: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, backlog }, () => {
      server.off('error', reject);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

export async function startTargetProcess(o: ResolvedTargetOptions, index: number): Promise<RunningTargetProcess> {
  // Before anything of the run exists: the first-call costs are the process's, not the model's.
  await warmUpTarget(o.host);
  const startedMs = performance.now();
  const metrics = emptySnapshot(index, process.pid);
  const silenced = new WeakSet<object>();
  const timers = {
    nowMs: () => performance.now(),
    after: (ms: number, fn: () => void) => {
      const t = setTimeout(fn, ms);
      return () => clearTimeout(t);
    },
  };
  const admission = new Admission(o.admission, timers);
  const lagProbe = new LagProbe();
  lagProbe.start();
  const service = new ServiceQueue(o.handshakeCostMs, o.handshakeBurnsCpu, timers, (lateMs) => lagProbe.record(lateMs));
  let gate: ConnectionGate | null = null;
  const outages = new OutageSchedule(
    o.outages,
    {
      start: (spec) => gate?.startOutage(spec),
      end: () => gate?.endOutage(),
    },
    timers,
  );
  gate = new ConnectionGate({
    maxConnections: o.maxConnections,
    metrics,
    silenced,
    refusingOutage: () => outages.refusing(),
  });
  const webhook = o.webhook === null ? null : new WebhookForwarder(o.webhook, o.lossSeed, metrics);
  const aedes = await createBroker({
    messageLossRate: o.messageLossRate,
    lossSeed: o.lossSeed,
    metrics,
    silenced,
    swallowing: () => outages.swallowing(),
    webhook,
  });
  const tracked = new WeakMap<net.Socket, Tracked>();

  const front = {
    admission,
    service,
    connectTimeoutMs: o.connectTimeoutMs,
    metrics,
    handoff: (stream: Duplex) => aedes.handle(stream as net.Socket),
    throttle: new ConnectThrottle(o.throttle, o.processes, performance.now()),
    clients: new ClientRegistry(),
    bridge: {
      publishesPerS: o.throttle?.publishesPerS ?? null,
      publishThrottle: o.throttle?.publishThrottle ?? 'drop',
      keepaliveMaxS: o.throttle?.keepaliveMaxS ?? null,
    },
    nowMs: () => performance.now(),
  };
  const servers: net.Server[] = [];
  const gated = (listener: ListenerName, dispatch: (raw: net.Socket, t: Tracked) => void): net.Server => {
    // noDelay: small MQTT packets must not sit in Nagle's buffer waiting for a delayed ACK (~40 ms).
    const s = net.createServer({ noDelay: true }, (raw) => {
      const t = gate.admit(raw, listener);
      if (t === null) return;
      tracked.set(raw, t);
      dispatch(raw, t);
    });
    servers.push(s);
    return s;
  };

  const wsHandler = (): ((req: http.IncomingMessage, socket: Duplex, head: Buffer) => void) =>
    upgradeHandler({
      admission,
      service,
      metrics,
      onMqttStream: (stream, socket) => {
        const t = trackedFor(socket);
        if (t) t.mqttStream = stream;
        handleMqttStream(stream, front);
      },
      onDevice: (socket) => void trackedFor(socket),
    });
  // The upgraded socket is the raw one (ws) or a TLS socket over it (wss).
  const trackedFor = (socket: Duplex): Tracked | undefined => {
    const raw = (socket as { _parent?: net.Socket })._parent ?? (socket as net.Socket);
    const t = tracked.get(raw);
    if (t && socket !== raw) t.top = socket;
    return t;
  };
  const notFound = (_req: http.IncomingMessage, res: http.ServerResponse): void => {
    res
      .writeHead(426, { 'content-type': 'text/plain', connection: 'close' })
      .end('WebSocket only: /mqtt (MQTT) or /ws (device)\n');
  };
  const host = o.host;
  const http1 = http.createServer(notFound);
  http1.on('upgrade', wsHandler());
  const mqttServer = gated('mqtt', (raw, t) => {
    t.mqttStream = raw;
    handleMqttStream(raw, front);
  });
  const wsServer = gated('ws', (raw) => http1.emit('connection', raw));
  const ports: Partial<Record<ListenerName | 'metrics', number>> = {};
  ports.mqtt = await listen(mqttServer, host, portFor(o, index, 'mqtt'), o.backlog);
  ports.ws = await listen(wsServer, host, portFor(o, index, 'ws'), o.backlog);

  let tlsServer: tls.Server | null = null;
  let httpsServer: https.Server | null = null;
  if (o.tls) {
    const creds = {
      key: readFileSync(join(TLS_FIXTURES, 'server.key')),
      cert: readFileSync(join(TLS_FIXTURES, 'server.crt')),
      ...(o.mtls
        ? { ca: readFileSync(join(TLS_FIXTURES, 'ca.crt')), requestCert: true, rejectUnauthorized: true }
        : {}),
    };
    tlsServer = tls.createServer(creds, (sock) => {
      const t = tracked.get((sock as { _parent?: net.Socket })._parent as net.Socket);
      if (t) {
        t.top = sock;
        t.mqttStream = sock;
      }
      handleMqttStream(sock, front);
    });
    tlsServer.on('tlsClientError', () => {});
    httpsServer = https.createServer(creds, notFound);
    httpsServer.on('upgrade', wsHandler());
    httpsServer.on('tlsClientError', () => {});
    const tlsS = tlsServer;
    const httpsS = httpsServer;
    ports.mqtts = await listen(
      gated('mqtts', (raw) => tlsS.emit('connection', raw)),
      host,
      portFor(o, index, 'mqtts'),
      o.backlog,
    );
    ports.wss = await listen(
      gated('wss', (raw) => httpsS.emit('connection', raw)),
      host,
      portFor(o, index, 'wss'),
      o.backlog,
    );
  }

  const snapshot = (): TargetMetricsSnapshot => {
    const cpu = process.cpuUsage();
    return {
      ...metrics,
      connections: { ...metrics.connections },
      acceptsTotal: { ...metrics.acceptsTotal },
      refusalsTotal: { ...metrics.refusalsTotal },
      webhookPostsTotal: { ...metrics.webhookPostsTotal },
      serverDisconnectsTotal: { ...metrics.serverDisconnectsTotal },
      handshakesQueued: admission.queued,
      handshakesInService: service.waiting,
      lagMaxMs: lagProbe.lag.maxMs,
      lagOverBoundTotal: lagProbe.lag.overBoundTotal,
      lagBusySeconds: lagProbe.lag.busySeconds,
      mqttSessions: aedes.connectedClients,
      outagesActive: outages.activeCount,
      cpuSecondsTotal: (cpu.user + cpu.system) / 1e6,
      uptimeSeconds: (performance.now() - startedMs) / 1000,
    };
  };
  let peers: string[] = [];
  const metricsServer = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path === '/metrics.json') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(snapshot()));
    } else if (path === '/metrics') {
      void scrapePeers(peers).then((others) => {
        res
          .writeHead(200, { 'content-type': 'text/plain; version=0.0.4' })
          .end(renderExposition([snapshot(), ...others]));
      });
    } else {
      res.writeHead(404).end();
    }
  });
  ports.metrics = await listen(metricsServer, host, portFor(o, index, 'metrics'), 511);

  const h = net.isIPv6(host) ? `[${host}]` : host;
  const endpoints: ProcessEndpoints = {
    mqtt: `mqtt://${h}:${ports.mqtt}`,
    mqttWs: `ws://${h}:${ports.ws}/mqtt`,
    ws: `ws://${h}:${ports.ws}/ws`,
    ...(o.tls
      ? {
          mqtts: `mqtts://${h}:${ports.mqtts}`,
          mqttWss: `wss://${h}:${ports.wss}/mqtt`,
          wss: `wss://${h}:${ports.wss}/ws`,
        }
      : {}),
  };
  return {
    index,
    host,
    port: ports.mqtt,
    endpoints,
    metricsUrl: `http://${h}:${ports.metrics}/metrics`,
    snapshot,
    lag: () => ({ ...lagProbe.lag }),
    setOrigin: (originPerfMs, measuredUs) => {
      outages.setOrigin(originPerfMs);
      lagProbe.measure(originPerfMs, measuredUs === null ? Infinity : originPerfMs + measuredUs / 1000);
    },
    setPeers: (urls) => {
      peers = urls;
    },
    close: async () => {
      outages.close();
      admission.close();
      service.close();
      lagProbe.stop();
      webhook?.close();
      for (const s of servers) s.close();
      metricsServer.close();
      metricsServer.closeAllConnections();
      gate.closeAll();
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
    },
  };
}

async function scrapePeers(urls: string[]): Promise<TargetMetricsSnapshot[]> {
  const got = await Promise.all(
    urls.map(async (u) => {
      try {
        const res = await fetch(u.replace(/\/metrics$/, '/metrics.json'), {
          signal: AbortSignal.timeout(PEER_SCRAPE_TIMEOUT_MS),
        });
        return res.ok ? ((await res.json()) as TargetMetricsSnapshot) : null;
      } catch {
        return null;
      }
    }),
  );
  return got.filter((s): s is TargetMetricsSnapshot => s !== null);
}
