/**
 * A new device kind is its device plus one table row, and no engine file changes: a throwaway
 * "echo" kind, defined only here, runs through the real engine (Runner, device table, fleet,
 * recorder) against a loopback WebSocket echo server on port 0. The echo device is ready once the
 * server has echoed its word back; it has no CONNACK, so that phase is absent, not zero.
 */
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import type { Failure } from '../../src/protocols/classify.js';
import { LinkedDevice } from '../../src/protocols/device-base.js';
import type {
  CohortSpec,
  Device,
  DeviceKindRow,
  DeviceOpenOptions,
  DeviceOwner,
  PreparedTarget,
} from '../../src/protocols/device.js';
import { DEVICE_KIND_ROWS, prepareTarget, type DeviceKindTable } from '../../src/protocols/kinds.js';
import { Runner } from '../../src/engine/runner.js';
import { decodeHistogram } from '../../src/metrics/histogram.js';
import type { LatencyKey } from '../../src/metrics/names.js';
import type { MetricsDelta } from '../../src/metrics/recorder.js';
import { buildPlan } from '../../src/plan/plan.js';
import { validateScenario } from '../../src/scenario/validate.js';
import { clockFromOrigin, engineClock, monotonicNowNs } from '../../src/util/clock.js';
import { DEVICE_KINDS, type DeviceKind } from '../../src/util/target-url.js';

// ---- the kind: its device (what would be its folder) ----

interface EchoOpenOptions {
  /** What the device says and waits to hear back. */
  word: string;
}

class EchoDevice extends LinkedDevice implements Device {
  readonly mqtt = null;
  readonly sessionPresent = false;
  protected get protocolPhase(): 'held' {
    return 'held';
  }
  private readonly owner: DeviceOwner;
  private readonly word: string;

  constructor(owner: DeviceOwner, t: PreparedTarget, o: DeviceOpenOptions & EchoOpenOptions) {
    super(owner, o.deviceId, t.endpoint.scheme);
    this.owner = owner;
    this.word = o.word;
    const ctx = {
      tls: t.tls,
      deviceKey: o.deviceId,
      subprotocol: undefined,
      maxMessageBytes: o.maxPacketBytes,
      headers: undefined,
    };
    const { scheme, host, port, path } = t.endpoint;
    this.start({ scheme, host, port, path, localAddress: o.localAddress, connectTimeoutMs: o.connectTimeoutMs, ctx });
  }

  ping(): void {
    if (this.state !== 'connected' || this.link === null || !Number.isNaN(this.pingSentUs)) return;
    this.pingSentUs = this.clock.now();
    this.link.ping();
  }

  end(): void {
    if (this.state === 'closed' || this.state === 'closing') return;
    if (this.state !== 'connected' || this.link === null) return this.abort();
    this.link.end();
    this.closeAfter(3_000);
  }

  linkReady(): void {
    if (this.state === 'handshaking') this.link?.write(Buffer.from(this.word));
  }

  linkData(chunk: Buffer): void {
    this.pingSentUs = NaN;
    if (this.state !== 'handshaking') return;
    if (chunk.toString() !== this.word) return this.protocolFailure('ECHO_MISMATCH');
    this.markReady();
    this.owner.onConnected(this);
  }

  protected reportFailed(f: Failure): void {
    this.owner.onFailed(this, f);
  }
  protected reportLost(f: Failure): void {
    this.owner.onLost(this, f);
  }
  protected reportClosed(): void {
    this.owner.onClosed(this);
  }
}

// ---- …and its one table row ----

const ECHO_KIND = {
  schemes: ['ws'],
  wsPath: '/echo',
  prepare:
    ({ fixed }: CohortSpec) =>
    (id: number) => ({ word: `${fixed.cohort}-${id}` }),
  open: (t: PreparedTarget, o: DeviceOpenOptions & EchoOpenOptions, owner: DeviceOwner) => new EchoDevice(owner, t, o),
} as const satisfies DeviceKindRow<EchoOpenOptions>;

const KINDS: DeviceKindTable = { ...DEVICE_KIND_ROWS, echo: ECHO_KIND };
/** The scenario schema knows only the shipped kinds: the test puts its own into the resolved scenario. */
const ECHO = 'echo' as unknown as DeviceKind;

// ---- a loopback echo server ----

let wss: WebSocketServer;
let port = 0;
const seen = { upgrades: 0, echoes: 0, paths: new Set<string>() };

beforeAll(async () => {
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  wss.on('connection', (ws, req) => {
    seen.upgrades++;
    seen.paths.add(req.url ?? '');
    ws.on('message', (data, isBinary) => {
      seen.echoes++;
      ws.send(data as Buffer, { binary: isBinary });
    });
  });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  port = (wss.address() as AddressInfo).port;
});

afterAll(async () => {
  for (const c of wss.clients) c.terminate();
  await new Promise<void>((resolve) => wss.close(() => resolve()));
});

function histogramCount(deltas: readonly MetricsDelta[], key: LatencyKey): number {
  let n = 0;
  for (const d of deltas) {
    const h = d.histograms[key];
    if (h !== undefined) n += decodeHistogram(h).totalCount;
  }
  return n;
}

describe('a device kind added by a test (echo)', () => {
  it('validates its targets by its own row: schemes and default path', () => {
    expect(prepareTarget(ECHO, `ws://127.0.0.1:${port}`, undefined, 'target', KINDS).endpoint.path).toBe('/echo');
    expect(() => prepareTarget(ECHO, 'mqtt://127.0.0.1:1', undefined, 'target', KINDS)).toThrow(
      /a echo device cannot use "mqtt:\/\/"; supported: ws:\/\//,
    );
  });

  it('runs through the unchanged engine: every device connects once, echoed, with only the phases it has', async () => {
    const devices = 25;
    const v = validateScenario(
      {
        name: 'echo-kind',
        devices,
        reconnect: { policy: 'none' },
        waves: [{ type: 'ramp', over: '200ms' }],
        hold: '500ms',
      },
      'echo-kind.yaml',
    );
    const scenario = {
      ...v.resolved,
      cohorts: v.resolved.cohorts.map((c) => ({ ...c, device: { ...c.device, protocol: ECHO } })),
    };
    const plan = buildPlan(scenario);
    const deltas: MetricsDelta[] = [];
    const runner = new Runner({
      runId: 'echo',
      workerIndex: 0,
      scenario,
      plan,
      ids: Uint32Array.from({ length: plan.devices }, (_, i) => i),
      targets: scenario.cohorts.map(() => [`ws://127.0.0.1:${port}`]),
      sourceIps: [],
      maxHandshakesInFlight: 0,
      maxPacketBytes: 64 * 1024,
      clock: engineClock(clockFromOrigin(monotonicNowNs())),
      kinds: KINDS,
      emit: (delta) => deltas.push(delta),
    });
    const end = await runner.run();
    deltas.push(end.delta);
    const counter = (name: keyof MetricsDelta['counters']): number => deltas.reduce((n, d) => n + d.counters[name], 0);

    expect(plan.devices).toBe(devices);
    expect(counter('started')).toBe(devices);
    expect(counter('succeeded')).toBe(devices);
    expect(counter('failed')).toBe(0);
    expect(counter('timedOut')).toBe(0);
    expect(counter('disconnects')).toBe(0);
    expect(deltas.flatMap((d) => Object.keys(d.errors))).toEqual([]);
    expect(end.inFlightAtEnd).toBe(0);
    expect(seen).toEqual({ upgrades: devices, echoes: devices, paths: new Set(['/echo']) });
    // The phases an echo device over ws:// has, once per device; CONNACK and TLS it does not have.
    expect(histogramCount(deltas, 'connect.total')).toBe(devices);
    expect(histogramCount(deltas, 'phase.tcpConnect')).toBe(devices);
    expect(histogramCount(deltas, 'phase.wsUpgrade')).toBe(devices);
    expect(deltas.some((d) => d.histograms['phase.mqttConnack'] !== undefined)).toBe(false);
    expect(deltas.some((d) => d.histograms['phase.tlsHandshake'] !== undefined)).toBe(false);
  });

  it('was never shipped: the kind list and the table are as before', () => {
    expect(DEVICE_KINDS).toEqual(['mqtt', 'websocket']);
    expect(Object.keys(DEVICE_KIND_ROWS)).toEqual(['mqtt', 'websocket']);
  });
});
