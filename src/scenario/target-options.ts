/**
 * The schema of the embedded reference target's options, validated in one pass. It
 * is transform-free so it can sit under a scenario's `target: { embedded: … }` key and appear in
 * the editor JSON Schema; it lives in scenario/ because a scenario embeds it, and target/options.ts
 * resolves it (defaults < profile < explicit knobs).
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { duration } from './schema-fields.js';
import { isLoopbackHost, SCHEME_NAMES, SCHEMES } from '../util/target-url.js';
import { orList } from '../util/suggest.js';

const share = z
  .number({ error: 'expected a number from 0 to 1' })
  .min(0, { error: 'expected a number from 0 to 1' })
  .max(1, { error: 'expected a number from 0 to 1' });

const seed = z
  .number({ error: 'expected a whole number' })
  .int()
  .min(0)
  .max(2 ** 32 - 1);

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
    ratePerS: z
      .number({ error: 'expected CONNECTs per second' })
      .positive({ error: 'expected a rate greater than 0' })
      .max(1_000_000),
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

/** How the embedded target drops connections in one of its outages. */
export const TARGET_OUTAGE_MODES = ['close', 'reset', 'silent', 'blackhole'] as const;
export type TargetOutageMode = (typeof TARGET_OUTAGE_MODES)[number];

export const outageSchema = z.strictObject({
  at: duration.meta({ description: 'Start, from the run origin (or the target start when no origin was sent).' }),
  duration: duration.meta({ description: 'How long new connections are refused.' }),
  share: share
    .default(1)
    .meta({ description: 'Share of open connections dropped and of new ones refused. Default 1.' }),
  mode: z
    .enum(TARGET_OUTAGE_MODES, { error: `expected ${orList(TARGET_OUTAGE_MODES)}` })
    .default('close')
    .meta({
      description:
        'close: FIN; reset: RST; silent: stop reading and answering; blackhole: connections stay and publishes are acknowledged, but a share of them is never delivered (counted by the target). Default close.',
    }),
});

export const webhookSchema = z.strictObject({
  url: loopbackHttpUrl,
  lossRate: share.default(0).meta({ description: 'Share of publishes silently not forwarded. Default 0.' }),
  maxInFlight: z.number().int().min(1).max(10_000).default(64).meta({ description: 'Concurrent POSTs. Default 64.' }),
  maxQueue: z.number().int().min(0).max(1_000_000).default(10_000).meta({
    description: 'POSTs waiting for a slot; beyond it they are counted as overflow and dropped. Default 10000.',
  }),
});

const perSecond = z
  .number({ error: 'expected a rate per second' })
  .positive({ error: 'expected a rate greater than 0' })
  .max(1_000_000);

/** How a real cloud pushes back (issue 16): the knobs behind the aws-like profile. */
export const throttleSchema = z
  .strictObject({
    connectsPerS: perSecond.nullable().default(null).meta({
      description:
        'Account-wide CONNECTs per second (split evenly over the processes); beyond it refused with 0x9F / code 3. Default null (none).',
    }),
    clientConnectsPerS: perSecond.nullable().default(null).meta({
      description: 'CONNECTs per second per client id; beyond it refused with 0x9F / code 3. Default null (none).',
    }),
    publishesPerS: perSecond
      .nullable()
      .default(null)
      .meta({ description: 'PUBLISH packets per second per connection. Default null (none).' }),
    publishThrottle: z.enum(['drop', 'disconnect'], { error: 'expected drop or disconnect' }).default('drop').meta({
      description:
        'Over publishesPerS: drop (QoS 0 dropped, QoS 1 PUBACK withheld) or disconnect (MQTT 5 DISCONNECT 0x96; 3.1.1 clients: drop). Default drop.',
    }),
    keepaliveMaxS: z.number({ error: 'expected seconds' }).int().min(1).max(65_535).nullable().default(null).meta({
      description:
        'A keepalive above this (or 0) is cut to it and MQTT 5 clients get it as Server Keep Alive. Default null (any).',
    }),
  })
  .meta({
    description:
      'Cloud-style throttling: account and per-client CONNECT rates, per-connection publish rate, keepalive cap.',
  });

/** Ports one target process takes from `port` on: a listener per (plain, or every) scheme and metrics. */
export function portsPerProcess(tls: boolean): number {
  return SCHEME_NAMES.filter((n) => tls || !SCHEMES[n].secure).length + 1;
}

export const TARGET_PROFILE_NAMES = ['default', 'fragile', 'protected', 'aws-like'] as const;
export type TargetProfileName = (typeof TARGET_PROFILE_NAMES)[number];

export const targetOptionsSchema = z
  .strictObject({
    profile: z
      .enum(TARGET_PROFILE_NAMES, { error: 'expected default, fragile, protected or aws-like' })
      .default('default')
      .meta({
        description: 'Bundle of failure knobs; explicit knobs below override it. Default "default" (no knobs).',
      }),
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
    tls: z
      .boolean()
      .optional()
      .meta({ description: 'Also listen on mqtts:// and wss:// (fixtures/tls certificates). Default false.' }),
    mtls: z.boolean().optional().meta({
      description: 'TLS listeners require a client certificate signed by fixtures/tls/ca.crt. Default false.',
    }),
    handshakeCostMs: z
      .number({ error: 'expected milliseconds' })
      .min(0)
      .max(1_000)
      .optional()
      .meta({
        description:
          'Service time per admitted CONNECT / WebSocket upgrade, served one at a time per process on the ' +
          'target’s own clock (no CPU burned: capacity 1000 / handshakeCostMs per second on any machine). ' +
          'Default 0; fragile 10; protected 10.',
      }),
    handshakeBurnsCpu: z
      .boolean()
      .optional()
      .meta({
        description:
          'Spend handshakeCostMs as a busy loop on the event loop instead (capacity = the CPU the machine ' +
          'leaves the target). Default false.',
      }),
    maxConnections: z
      .number({ error: 'expected a whole number' })
      .int()
      .min(1)
      .max(1_000_000)
      .nullable()
      .optional()
      .meta({
        description:
          'Open connections per process; beyond it a new one is accepted and closed at once. Default null (none); fragile 3000.',
      }),
    admission: admissionSchema.nullable().optional().meta({
      description: 'Default null (none); protected {ratePerS: 300, burst: 50, queue: 150, queueTimeoutMs: 1000}.',
    }),
    throttle: throttleSchema
      .nullable()
      .optional()
      .meta({ description: 'Default null (none); aws-like: AWS IoT Core limits (docs/target.md).' }),
    outages: z.array(outageSchema).max(1_000).optional().meta({ description: 'Default [].' }),
    messageLossRate: share
      .optional()
      .meta({ description: 'Share of deliveries to subscribers silently dropped. Default 0.' }),
    lossSeed: seed.optional().meta({ description: 'Seed of the deterministic loss choices. Default 1.' }),
    webhook: webhookSchema
      .nullable()
      .optional()
      .meta({ description: 'Forward publishes as HTTP POSTs. Default null.' }),
    connectTimeoutMs: z
      .number()
      .int()
      .min(100)
      .max(600_000)
      .optional()
      .meta({ description: 'A connection that sends no CONNECT in time is closed. Default 30000.' }),
  })
  .superRefine((o, ctx) => {
    // Listeners take consecutive ports from `port`: all of them must exist.
    if (o.port === undefined || o.port === 0) return;
    const n = (o.processes ?? 1) * portsPerProcess(o.tls === true);
    if (o.port + n - 1 > 65_535) {
      ctx.addIssue({
        code: 'custom',
        path: ['port'],
        message: `expected at most ${65_536 - n}: the target takes ${n} consecutive ports from it (${o.processes ?? 1} process${(o.processes ?? 1) === 1 ? '' : 'es'} × ${portsPerProcess(o.tls === true)}), up to 65535`,
      });
    }
  })
  .meta({ title: 'embedded target', description: 'The embedded reference cloud (herd target).' });

export type TargetOptionsInput = z.input<typeof targetOptionsSchema>;
export type AdmissionOptions = z.output<typeof admissionSchema>;
export type WebhookOptions = z.output<typeof webhookSchema>;
