/**
 * Resolves the embedded target's options (schema in scenario/target-options.ts) in layers:
 * built-in defaults < profile < explicit knobs. Every default is in TARGET_DEFAULTS /
 * TARGET_PROFILES and in docs/target.md.
 */
import type { z } from 'zod';
import { HerdError } from '../errors.js';
import { mustParseDurationUs } from '../util/duration.js';
import {
  targetOptionsSchema,
  type throttleSchema,
  type AdmissionOptions,
  type TargetOutageMode,
  type TargetProfileName,
  type WebhookOptions,
} from '../scenario/target-options.js';
import type { ListenerName } from './metrics.js';

type Parsed = z.output<typeof targetOptionsSchema>;
export type ThrottleOptions = z.output<typeof throttleSchema>;

export interface OutageSpec {
  atMs: number;
  durationMs: number;
  share: number;
  mode: TargetOutageMode;
}

/** Everything a target process needs, plain JSON (it crosses the IPC boundary). */
export interface ResolvedTargetOptions {
  profile: TargetProfileName;
  host: string;
  port: number;
  processes: number;
  backlog: number;
  tls: boolean;
  mtls: boolean;
  handshakeCostMs: number;
  /** true: handshakeCostMs is a busy loop on the event loop (capacity = the CPU left), not a modelled service time. */
  handshakeBurnsCpu: boolean;
  maxConnections: number | null;
  admission: AdmissionOptions | null;
  throttle: ThrottleOptions | null;
  outages: OutageSpec[];
  messageLossRate: number;
  lossSeed: number;
  webhook: WebhookOptions | null;
  connectTimeoutMs: number;
  /** Per process, the exact port of each listener: a restarted target takes back the ports it had. */
  fixedPorts?: Partial<Record<ListenerName | 'metrics', number>>[];
}

type Knobs = Omit<ResolvedTargetOptions, 'profile' | 'outages' | 'fixedPorts'> & { outages: OutageSpec[] };

export const TARGET_DEFAULTS: Readonly<Knobs> = {
  host: '127.0.0.1',
  port: 0,
  processes: 1,
  backlog: 4096,
  tls: false,
  mtls: false,
  handshakeCostMs: 0,
  handshakeBurnsCpu: false,
  maxConnections: null,
  admission: null,
  throttle: null,
  outages: [],
  messageLossRate: 0,
  lossSeed: 1,
  webhook: null,
  connectTimeoutMs: 30_000,
};

/**
 * The profiles are a model on the target's own clock, so they hold on any machine that can carry
 * the socket work (the target reports when it could not: TargetLag):
 * - fragile: one server per process busy 10 ms per CONNECT (100 CONNECTs/s), no shedding, and the
 *   work is still done for devices that have already given up; 3000 open connections per process
 *   is the "fd limit" past which new connections are accepted and closed. When the devices still
 *   waiting after one timeout bring back more work than the server clears in a retry cycle
 *   (1,500 devices: 500 served within a 5 s timeout, the other 1,000 × 10 ms = 10 s of work every
 *   ~6.25 s of timeout and backoff), the queue only grows: every answer comes too late, and the
 *   storm never ends by itself.
 * - protected: the same 10 ms service, but only 80 CONNECTs/s are admitted (80% of it), a burst of
 *   15 and a queue of 40 (≤ 0.5 s wait, shed as "server busy" after 1 s); the rest are refused at
 *   once with 0x9F / v3 code 3, which costs the server nothing. Admitted CONNECTs never wait long.
 */
export const TARGET_PROFILES: Readonly<Record<TargetProfileName, Partial<Knobs>>> = {
  default: {},
  fragile: { handshakeCostMs: 10, maxConnections: 3_000, admission: null },
  protected: {
    handshakeCostMs: 10,
    maxConnections: null,
    admission: { ratePerS: 80, burst: 15, queue: 40, queueTimeoutMs: 1_000 },
  },
  // AWS IoT Core's published limits (docs/target.md cites them), unscaled: this machine's target
  // takes thousands of CONNECTs/s with no handshake cost, so 500/s binds first. The duplicate
  // client-id takeover is aedes' own behaviour in every profile; MQTT 5 clients get DISCONNECT 0x8E.
  'aws-like': {
    throttle: {
      connectsPerS: 500,
      clientConnectsPerS: 1,
      publishesPerS: 100,
      publishThrottle: 'drop',
      keepaliveMaxS: 1_200,
    },
  },
};

export function resolveTargetOptions(p: Parsed): ResolvedTargetOptions {
  const profile = TARGET_PROFILES[p.profile];
  const pick = <K extends keyof Knobs>(k: K, v: Knobs[K] | undefined): Knobs[K] =>
    v !== undefined ? v : ((profile[k] as Knobs[K] | undefined) ?? TARGET_DEFAULTS[k]);
  const outages: OutageSpec[] | undefined = p.outages?.map((o) => ({
    atMs: mustParseDurationUs(o.at) / 1000,
    durationMs: mustParseDurationUs(o.duration) / 1000,
    share: o.share,
    mode: o.mode,
  }));
  return {
    profile: p.profile,
    host: pick('host', p.host),
    port: pick('port', p.port),
    processes: pick('processes', p.processes),
    backlog: pick('backlog', p.backlog),
    tls: pick('tls', p.tls),
    mtls: pick('mtls', p.mtls),
    handshakeCostMs: pick('handshakeCostMs', p.handshakeCostMs),
    handshakeBurnsCpu: pick('handshakeBurnsCpu', p.handshakeBurnsCpu),
    maxConnections: pick('maxConnections', p.maxConnections),
    admission: pick('admission', p.admission),
    throttle: pick('throttle', p.throttle),
    outages: pick('outages', outages),
    messageLossRate: pick('messageLossRate', p.messageLossRate),
    lossSeed: pick('lossSeed', p.lossSeed),
    webhook: pick('webhook', p.webhook),
    connectTimeoutMs: pick('connectTimeoutMs', p.connectTimeoutMs),
  };
}

/**
 * Validates and resolves in one step. `where` names the input in messages, e.g.
 * "target.embedded" for a scenario or "herd target flags" for the CLI.
 */
export function parseTargetOptions(
  input: unknown,
  where = 'target.embedded',
  code: 'E_SCENARIO_INVALID' | 'E_FLAG' = 'E_SCENARIO_INVALID',
): ResolvedTargetOptions {
  const r = targetOptionsSchema.safeParse(input ?? {});
  if (!r.success) {
    const details = r.error.issues.map((i) => `${[where, ...i.path.map(String)].join('.')}: ${i.message}`);
    throw new HerdError(code, `${where}: invalid embedded target options`, details);
  }
  const o = resolveTargetOptions(r.data);
  if (o.mtls && !o.tls) {
    throw new HerdError(code, `${where}: invalid embedded target options`, [`${where}.mtls: needs tls: true`]);
  }
  return o;
}

/** The profile and the knobs that shape a storm, in words: a report's header says what the target was. */
export function describeTargetKnobs(o: ResolvedTargetOptions): string {
  const parts = [
    o.handshakeCostMs > 0
      ? o.handshakeBurnsCpu
        ? `CONNECT burns ${o.handshakeCostMs}ms CPU`
        : `CONNECT served in ${o.handshakeCostMs}ms, one at a time (modelled)`
      : 'no CONNECT cost',
    o.admission
      ? `admission ${o.admission.ratePerS}/s (burst ${o.admission.burst}, queue ${o.admission.queue}, shed after ${o.admission.queueTimeoutMs}ms)`
      : 'no admission control',
    o.maxConnections === null ? 'no connection cap' : `cap ${o.maxConnections} connections per process`,
    `${o.processes} process${o.processes === 1 ? '' : 'es'}`,
  ];
  if (o.tls) parts.push(o.mtls ? 'mutual TLS' : 'TLS');
  for (const x of o.outages)
    parts.push(
      `outage at ${x.atMs / 1000}s for ${x.durationMs / 1000}s (${x.mode}${x.share < 1 ? `, ${Math.round(x.share * 100)}%` : ''})`,
    );
  if (o.messageLossRate > 0) parts.push(`loses ${o.messageLossRate * 100}% of messages`);
  return `profile ${o.profile}: ${parts.join(', ')}`;
}
