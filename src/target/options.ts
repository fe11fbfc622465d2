/**
 * Options of the embedded reference target, validated in one pass (STYLE.md #6). The schema is
 * transform-free so it can sit under a scenario's `target: { embedded: … }` key and appear in the
 * editor JSON Schema; `resolveTargetOptions` then layers: built-in defaults < profile < explicit
 * knobs. Every default is in TARGET_DEFAULTS / TARGET_PROFILES and in docs/target.md.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { HerdError } from '../errors.js';
import { DURATION_HINT, DURATION_RE, mustParseDurationUs } from '../util/duration.js';

const duration = z
  .string({ error: DURATION_HINT })
  .regex(DURATION_RE, { error: DURATION_HINT })
  .meta({ description: 'A duration: a number and a unit (us, ms, s, m, h), e.g. "30s".' });

const share = z
  .number({ error: 'expected a number from 0 to 1' })
  .min(0, { error: 'expected a number from 0 to 1' })
  .max(1, { error: 'expected a number from 0 to 1' });

const seed = z.number({ error: 'expected a whole number' }).int().min(0).max(2 ** 32 - 1);

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  if (h === '::1' || h === 'localhost') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

const loopbackHost = z
  .string({ error: 'expected a loopback address' })
  .refine((h) => isLoopbackHost(h) && isIP(h.replace(/^\[|\]$/g, '')) !== 0, {
    error: 'expected a loopback IP address (127.0.0.0/8 or ::1): the embedded target never listens elsewhere',
  });

const loopbackHttpUrl = z.string({ error: 'expected an http:// URL on loopback' }).refine(
  (v) => {
    try {
      const u = new URL(v);
      return u.protocol === 'http:' && isLoopbackHost(u.hostname);
    } catch {
      return false;
    }
  },
  { error: 'expected an http:// URL on loopback, e.g. "http://127.0.0.1:8080/hook"' },
);

export const admissionSchema = z
  .strictObject({
    ratePerS: z.number({ error: 'expected CONNECTs per second' }).positive({ error: 'expected a rate greater than 0' }).max(1_000_000),
    burst: z.number({ error: 'expected a whole number' }).int().min(1, { error: 'expected at least 1' }).max(1_000_000),
    queue: z
      .number({ error: 'expected a whole number' })
      .int()
      .min(0)
      .max(1_000_000)
      .default(0)
      .meta({ description: 'CONNECTs that may wait for a token; beyond it they are shed at once. Default 0.' }),
    queueTimeoutMs: z
      .number({ error: 'expected milliseconds' })
      .int()
      .positive()
      .max(600_000)
      .default(5_000)
      .meta({ description: 'A queued CONNECT still waiting after this is shed as "server busy". Default 5000.' }),
  })
  .meta({ description: 'Token-bucket admission control per target process: ratePerS tokens/s, bucket size burst.' });

export const outageSchema = z.strictObject({
  at: duration.meta({ description: 'Start, from the run origin (or the target start when no origin was sent).' }),
  duration: duration.meta({ description: 'How long new connections are refused.' }),
  share: share.default(1).meta({ description: 'Share of open connections dropped and of new ones refused. Default 1.' }),
  mode: z
    .enum(['close', 'reset', 'silent'], { error: 'expected close, reset or silent' })
    .default('close')
    .meta({ description: 'close: FIN; reset: RST; silent: stop reading and answering. Default close.' }),
});

export const webhookSchema = z.strictObject({
  url: loopbackHttpUrl,
  lossRate: share.default(0).meta({ description: 'Share of publishes silently not forwarded. Default 0.' }),
  maxInFlight: z.number().int().min(1).max(10_000).default(64).meta({ description: 'Concurrent POSTs. Default 64.' }),
  maxQueue: z
    .number()
    .int()
    .min(0)
    .max(1_000_000)
    .default(10_000)
    .meta({ description: 'POSTs waiting for a slot; beyond it they are counted as overflow and dropped. Default 10000.' }),
});

export const TARGET_PROFILE_NAMES = ['default', 'fragile', 'protected'] as const;
export type TargetProfileName = (typeof TARGET_PROFILE_NAMES)[number];

export const targetOptionsSchema = z
  .strictObject({
    profile: z
      .enum(TARGET_PROFILE_NAMES, { error: 'expected default, fragile or protected' })
      .default('default')
      .meta({ description: 'Bundle of failure knobs; explicit knobs below override it. Default "default" (no knobs).' }),
    host: loopbackHost.optional().meta({ description: 'Listen address. Default 127.0.0.1.' }),
    port: z
      .number({ error: 'expected a port number' })
      .int()
      .min(0)
      .max(65535)
      .optional()
      .meta({ description: 'First port; listeners take consecutive ports from it. Default 0 (free ports).' }),
    processes: z
      .number({ error: 'expected a whole number' })
      .int()
      .min(1)
      .max(64)
      .optional()
      .meta({ description: 'Broker processes, each a separate broker on its own ports. Default 1.' }),
    backlog: z.number().int().min(1).max(65535).optional().meta({ description: 'Listen backlog. Default 4096.' }),
    tls: z.boolean().optional().meta({ description: 'Also listen on mqtts:// and wss:// (fixtures/tls certificates). Default false.' }),
    mtls: z.boolean().optional().meta({ description: 'TLS listeners require a client certificate signed by fixtures/tls/ca.crt. Default false.' }),
    handshakeCostMs: z
      .number({ error: 'expected milliseconds' })
      .min(0)
      .max(1_000)
      .optional()
      .meta({ description: 'Synchronous CPU work per admitted CONNECT / WebSocket upgrade. Default 0; fragile 2; protected 2.' }),
    maxConnections: z
      .number({ error: 'expected a whole number' })
      .int()
      .min(1)
      .max(1_000_000)
      .nullable()
      .optional()
      .meta({ description: 'Open connections per process; beyond it a new one is accepted and closed at once. Default null (none); fragile 3000.' }),
    admission: admissionSchema
      .nullable()
      .optional()
      .meta({ description: 'Default null (none); protected {ratePerS: 300, burst: 50, queue: 150, queueTimeoutMs: 1000}.' }),
    outages: z.array(outageSchema).max(1_000).optional().meta({ description: 'Default [].' }),
    messageLossRate: share.optional().meta({ description: 'Share of deliveries to subscribers silently dropped. Default 0.' }),
    lossSeed: seed.optional().meta({ description: 'Seed of the deterministic loss choices. Default 1.' }),
    webhook: webhookSchema.nullable().optional().meta({ description: 'Forward publishes as HTTP POSTs. Default null.' }),
    connectTimeoutMs: z
      .number()
      .int()
      .min(100)
      .max(600_000)
      .optional()
      .meta({ description: 'A connection that sends no CONNECT in time is closed. Default 30000.' }),
  })
  .meta({ title: 'embedded target', description: 'The embedded reference cloud (herd target).' });

export type TargetOptionsInput = z.input<typeof targetOptionsSchema>;
type Parsed = z.output<typeof targetOptionsSchema>;
export type AdmissionOptions = z.output<typeof admissionSchema>;
export type WebhookOptions = z.output<typeof webhookSchema>;

export interface OutageSpec {
  atMs: number;
  durationMs: number;
  share: number;
  mode: 'close' | 'reset' | 'silent';
}

/** Everything a target process needs, plain JSON (it crosses the IPC boundary, STYLE.md #7). */
export interface ResolvedTargetOptions {
  profile: TargetProfileName;
  host: string;
  port: number;
  processes: number;
  backlog: number;
  tls: boolean;
  mtls: boolean;
  handshakeCostMs: number;
  maxConnections: number | null;
  admission: AdmissionOptions | null;
  outages: OutageSpec[];
  messageLossRate: number;
  lossSeed: number;
  webhook: WebhookOptions | null;
  connectTimeoutMs: number;
  /** Per process, the exact port of each listener: a restarted target takes back the ports it had. */
  fixedPorts?: Partial<Record<'mqtt' | 'ws' | 'mqtts' | 'wss' | 'metrics', number>>[];
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
  maxConnections: null,
  admission: null,
  outages: [],
  messageLossRate: 0,
  lossSeed: 1,
  webhook: null,
  connectTimeoutMs: 30_000,
};

/**
 * Numbers chosen on this 2-core machine (docs/target.md has the measurements):
 * - fragile: each CONNECT burns 2 ms of CPU (≈2.4 ms with aedes' own work, so one process
 *   completes ≈400/s), CONNECTs are never shed, and the CPU is still spent on devices that have
 *   already given up; 3000 open connections per process is the "fd limit" past which new
 *   connections are accepted and closed. A 3000-device spike with a 5 s device timeout took
 *   5811 timeouts and 23 s to reach 99%; a 5000-device fleet never gets past 3000.
 * - protected: the same 2 ms firmware cost, but only 300 CONNECTs/s are admitted (≈75% of what
 *   the CPU can do, leaving room to read and shed the rest), a burst of 50 and a queue of 150
 *   (≤ 0.5 s wait, shed as "server busy" after 1 s); the rest are refused at once with 0x9F / v3
 *   code 3 at almost no cost. The same spike: 0 timeouts, CONNACK p99 2.3 s, 99% in 18 s.
 */
export const TARGET_PROFILES: Readonly<Record<TargetProfileName, Partial<Knobs>>> = {
  default: {},
  fragile: { handshakeCostMs: 2, maxConnections: 3_000, admission: null },
  protected: {
    handshakeCostMs: 2,
    maxConnections: null,
    admission: { ratePerS: 300, burst: 50, queue: 150, queueTimeoutMs: 1_000 },
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
    maxConnections: pick('maxConnections', p.maxConnections),
    admission: pick('admission', p.admission),
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
    o.handshakeCostMs > 0 ? `CONNECT costs ${o.handshakeCostMs}ms CPU` : 'no CONNECT cost',
    o.admission
      ? `admission ${o.admission.ratePerS}/s (burst ${o.admission.burst}, queue ${o.admission.queue}, shed after ${o.admission.queueTimeoutMs}ms)`
      : 'no admission control',
    o.maxConnections === null ? 'no connection cap' : `cap ${o.maxConnections} connections per process`,
    `${o.processes} process${o.processes === 1 ? '' : 'es'}`,
  ];
  if (o.tls) parts.push(o.mtls ? 'mutual TLS' : 'TLS');
  for (const x of o.outages) parts.push(`outage at ${x.atMs / 1000}s for ${x.durationMs / 1000}s (${x.mode}${x.share < 1 ? `, ${Math.round(x.share * 100)}%` : ''})`);
  if (o.messageLossRate > 0) parts.push(`loses ${o.messageLossRate * 100}% of messages`);
  return `profile ${o.profile}: ${parts.join(', ')}`;
}
