/**
 * The device options of a scenario (`device:` and a cohort's `device:` overrides): protocol, MQTT
 * connect fields, TLS, transport and what a device sends. scenario/schema.ts puts them in the scenario.
 */
import { z } from 'zod';
import { parseDurationUs } from '../util/duration.js';
import { DEVICE_KINDS, SCHEME_NAMES } from '../util/target-url.js';
import { orList } from '../util/suggest.js';
import {
  BOUNDS,
  duration,
  durationAtLeast,
  helloTemplate,
  secretTemplate,
  template,
  wholeSeconds,
} from './schema-fields.js';
import { subprotocolProblem } from './template-rules.js';
import { downlinkSchema, publishSchema, requestsSchema } from './messaging-schema.js';

export const mqttVersionSchema = z
  .union([z.literal('3.1.1'), z.literal(5), z.literal('5')], { error: 'expected 3.1.1 or 5' })
  .meta({ description: 'MQTT protocol version: "3.1.1" or 5.' });

const tlsSchema = z
  .strictObject({
    ca: z.string().min(1).optional().meta({ description: 'PEM file of the CA to trust; default: the system store.' }),
    insecure: z.boolean().optional().meta({ description: 'Accept any server certificate. Default false.' }),
    servername: z.string().min(1).optional().meta({ description: 'SNI name; default: the target host name.' }),
    alpn: z.array(z.string().min(1)).min(1).optional().meta({ description: 'ALPN protocols offered, e.g. ["mqtt"].' }),
    minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).optional(),
    maxVersion: z.enum(['TLSv1.2', 'TLSv1.3']).optional(),
    clientCert: z.string().min(1).optional().meta({
      description:
        'Client certificates (mTLS): a folder of NAME.crt/NAME.key pairs or a template like "certs/device-{id}.crt".',
    }),
    resume: z
      .number()
      .min(0)
      .max(1)
      .optional()
      .meta({ description: 'Share of reconnects that offer the cached TLS session (0–1). Default 0.' }),
  })
  .meta({ description: 'TLS options for mqtts:// and wss:// targets.' });

export const deviceSchema = z
  .strictObject({
    protocol: z
      .enum(DEVICE_KINDS, { error: `expected ${orList(DEVICE_KINDS.map((k) => `"${k}"`))}` })
      .default('mqtt')
      .meta({
        description:
          'mqtt: MQTT devices; websocket: plain WebSocket devices (upgrade, optional hello frame, ping/pong keepalive).',
      }),
    hello: helloTemplate
      .optional()
      .meta({ description: 'websocket devices: a text frame sent right after the upgrade ({id}, {run}, {cohort}).' }),
    subprotocol: z
      .string()
      .min(1)
      .max(200)
      .refine((v) => subprotocolProblem(v) === null, { error: (i) => subprotocolProblem(String(i.input)) ?? '' })
      .optional()
      .meta({ description: 'websocket devices: the Sec-WebSocket-Protocol offered.' }),
    mqttVersion: mqttVersionSchema.default('3.1.1'),
    clientId: template.default('herd-{run}-{id}'),
    username: template.optional(),
    password: secretTemplate.optional(),
    keepalive: wholeSeconds("MQTT's keepalive is a count of seconds; 0 turns it off")
      .refine((v) => (parseDurationUs(v) ?? 0) <= BOUNDS.maxKeepaliveS * 1e6, {
        error: `expected at most ${BOUNDS.maxKeepaliveS}s (MQTT's 16-bit keepalive field)`,
      })
      .default('60s'),
    cleanSession: z.boolean({ error: 'expected true or false' }).default(true),
    connectTimeout: durationAtLeast(BOUNDS.minConnectTimeout).default('10s'),
    dnsTtl: duration.default('60s').meta({
      description:
        "A target given by host name: how long one lookup's answer serves every attempt of the worker (attempts meanwhile have no dns phase, as with an IP; those that find none wait for the one lookup in flight), devices spread over every address it gave. 0s: each attempt looks the name up on its own — a lookup storm from this machine, whose resolver and thread pool then show in phase.dns. Default 60s.",
    }),
    transport: z
      .enum(SCHEME_NAMES, { error: `expected one of ${SCHEME_NAMES.join(', ')}` })
      .default('mqtt')
      .meta({
        description:
          'Which listener of the embedded target to use (MQTT over TCP, TLS, WebSocket, secure WebSocket). A target URL sets it by its scheme.',
      }),
    tls: tlsSchema.optional(),
    sessionExpiry: duration
      .optional()
      .meta({ description: 'MQTT 5 session expiry interval (persistent sessions); default: none.' }),
    publish: publishSchema.optional(),
    requests: requestsSchema.optional(),
    downlink: downlinkSchema.optional(),
    engine: z.enum(['js', 'native', 'auto'], { error: 'expected "js", "native" or "auto"' }).default('auto').meta({
      description:
        'Which connect path carries the devices: auto (default: the native storm core where it applies and the addon is built, silently; js otherwise), js (Node sockets) or native (as auto, but herd says once which devices stay on js and why). The native core takes mqtt:// and mqtts:// (to an IP or a host name, looked up as on js: device.dnsTtl), publish, requests and downlink at QoS 0/1; QoS 2 telemetry or requests stay on js. HERD_NATIVE=0 in the environment puts every cohort on js.',
    }),
  })
  .meta({ description: 'How each device speaks to the target.' });

/**
 * A cohort's device options: the same fields without defaults, so a field left out inherits the
 * scenario-wide value instead of being reset to the schema default.
 */
export const deviceOverrideSchema = z.strictObject(
  Object.fromEntries(
    Object.entries(deviceSchema.shape).map(([k, s]) => [
      k,
      (s instanceof z.ZodDefault ? (s.unwrap() as z.ZodType) : (s as z.ZodType)).optional(),
    ]),
  ) as {
    [K in keyof typeof deviceSchema.shape]: z.ZodOptional<
      z.ZodType<z.output<(typeof deviceSchema.shape)[K]>, z.input<(typeof deviceSchema.shape)[K]>>
    >;
  },
);
