/**
 * Reconnect presets: what a vendor SDK's firmware does by default, written once as an expansion
 * into herd's own policy fields (and the device options the SDK defaults), so a cohort can say
 * `reconnect: { preset: aws-iot-sdk }` and still override any field. Sources: docs/presets.md.
 *
 * This module imports nothing from schema.ts (which imports it): the policy schema is passed in.
 */
import { z } from 'zod';
import type { ResolvedStore } from '../results/resolved-scenario.js';

export const PRESET_NAMES = ['aws-iot-sdk', 'azure-iot-sdk', 'mqttjs-default', 'paho-default'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

/** A policy written as in a scenario file (before defaults are filled in). */
export interface PresetPolicy {
  policy: 'fixed' | 'linear' | 'exponential';
  delay?: string;
  initial?: string;
  step?: string;
  multiplier?: number;
  max?: string;
  jitter: 'none' | 'full' | 'equal' | 'decorrelated' | 'proportional';
  jitterShare?: number;
  resetAfter?: string;
}

/** Device options an SDK sets by default (fields of `device`). */
export interface PresetDevice {
  keepalive?: string;
  connectTimeout?: string;
  cleanSession?: boolean;
}

export interface Preset {
  reconnect: PresetPolicy;
  device: PresetDevice;
  /** The SDK's message store (issue 24), or null when the preset leaves herd's default (none). */
  store: ResolvedStore | null;
  /** Where each value comes from (docs/presets.md says it at length). */
  source: string;
}

export const PRESETS: Readonly<Record<PresetName, Preset>> = {
  // aws-c-mqtt (the MQTT 5 client under every AWS IoT device SDK v2): mqtt5_client_impl.h and
  // mqtt5_options_storage.h; jitter FULL is aws-c-io's exponential backoff default.
  'aws-iot-sdk': {
    reconnect: { policy: 'exponential', initial: '1s', multiplier: 2, max: '120s', jitter: 'full', resetAfter: '30s' },
    device: { keepalive: '1200s', connectTimeout: '20s', cleanSession: true },
    // Offline queue behaviour DEFAULT = FAIL_QOS0_PUBLISH_ON_DISCONNECT: unacknowledged QoS 1+
    // publishes go back to the head of the queue (DUP set), even in a new clean session; QoS 0
    // publishes are failed while offline; the operation queue has no size limit.
    store: { resend: 'always', offlineQueue: null, overflow: 'dropNewest', queueQos0: false },
    source: 'aws-c-mqtt MQTT 5 client defaults (AWS IoT device SDKs v2)',
  },
  // azure-iot-sdk-csharp v2: IotHubClientOptions.RetryPolicy =
  // IotHubClientExponentialBackoffRetryPolicy(0, 12 h, useJitter: true): 2^(n+7) ms, 95–105 %.
  'azure-iot-sdk': {
    reconnect: {
      policy: 'exponential',
      initial: '128ms',
      multiplier: 2,
      max: '12h',
      jitter: 'proportional',
      jitterShare: 0.05,
    },
    device: {},
    store: null,
    source: 'Azure IoT device SDK for .NET v2 default retry policy',
  },
  // MQTT.js README: reconnectPeriod 1000 ms, connectTimeout 30 s, keepalive 60 s, clean true.
  'mqttjs-default': {
    reconnect: { policy: 'fixed', delay: '1s', jitter: 'none' },
    device: { keepalive: '60s', connectTimeout: '30s', cleanSession: true },
    // MQTT.js 5: the outgoing store (in memory, no limit) is replayed on every connect; publishes
    // while offline are stored (QoS 1/2) or queued (QoS 0, queueQoSZero: true).
    store: { resend: 'always', offlineQueue: null, overflow: 'dropNewest', queueQos0: true },
    source: 'MQTT.js client defaults',
  },
  // Eclipse Paho Java MqttConnectOptions with setAutomaticReconnect(true): 1 s doubling to
  // maxReconnectDelay 128,000 ms; keepAliveInterval 60 s, connectionTimeout 30 s, cleanSession true.
  'paho-default': {
    reconnect: { policy: 'exponential', initial: '1s', multiplier: 2, max: '128s', jitter: 'none' },
    device: { keepalive: '60s', connectTimeout: '30s', cleanSession: true },
    // ClientState: in-flight messages are resent with DUP set only when the session is kept
    // (cleanSession false); the disconnected buffer (DisconnectedBufferOptions) is off by default.
    store: { resend: 'session', offlineQueue: 0, overflow: 'dropNewest', queueQos0: false },
    source: 'Eclipse Paho Java client defaults, automatic reconnect on',
  },
};

/** Which override fields each policy takes. */
const POLICY_FIELDS: Record<PresetPolicy['policy'], readonly string[]> = {
  fixed: ['delay', 'jitter', 'jitterShare', 'resetAfter', 'maxAttempts', 'serverSignals'],
  linear: ['initial', 'step', 'max', 'jitter', 'jitterShare', 'resetAfter', 'maxAttempts', 'serverSignals'],
  exponential: ['initial', 'multiplier', 'max', 'jitter', 'jitterShare', 'resetAfter', 'maxAttempts', 'serverSignals'],
};

// Overrides are checked once, as the policy fields they become (see withPresets): here they are
// only named, so a bad value is reported once, by the policy's own rule.
const override = (description: string) => z.unknown().optional().meta({ description });

const presetObject = z.strictObject({
  preset: z
    .enum(PRESET_NAMES, { error: `expected a preset: ${PRESET_NAMES.join(', ')}` })
    .meta({ description: `A vendor SDK's default reconnect behaviour (docs/presets.md): ${PRESET_NAMES.join(', ')}.` }),
  deviceDefaults: z.boolean({ error: 'expected true or false' }).default(true).meta({
    description:
      "Also apply the SDK's default keepalive, connect timeout, clean session and message store (publish.store) to the cohort's devices (its own device fields still win).",
  }),
  delay: override("Overrides the preset policy's delay (fixed)."),
  initial: override("Overrides the preset policy's initial delay."),
  step: override("Overrides the preset policy's step (linear)."),
  multiplier: override("Overrides the preset policy's multiplier (exponential)."),
  max: override("Overrides the preset policy's largest delay."),
  jitter: override("Overrides the preset policy's jitter."),
  jitterShare: override("Overrides the preset policy's jitter share (proportional)."),
  resetAfter: override('Overrides when the backoff restarts.'),
  maxAttempts: override('Gives up after this many consecutive failed attempts.'),
  serverSignals: override('What the device does when an MQTT 5 server steers it (reconnect.serverSignals).'),
});

export type PresetInput = z.output<typeof presetObject>;

export function isPresetInput(r: object): r is PresetInput {
  return 'preset' in r;
}

/** The preset's policy with the written overrides laid over it, as a scenario would write it. */
export function expandPresetPolicy(p: PresetInput): Record<string, unknown> {
  const out: Record<string, unknown> = { ...PRESETS[p.preset].reconnect };
  for (const [k, v] of Object.entries(p)) if (k !== 'preset' && k !== 'deviceDefaults' && v !== undefined) out[k] = v;
  return out;
}

/** The message store a preset's SDK keeps, or null (none set, or the scenario turned SDK defaults off). */
export function presetStore(p: PresetInput): ResolvedStore | null {
  return p.deviceDefaults ? PRESETS[p.preset].store : null;
}

/** The device options a preset sets, or none when the scenario turned them off. */
export function presetDeviceDefaults(p: PresetInput): PresetDevice {
  return p.deviceDefaults ? { ...PRESETS[p.preset].device } : {};
}

/**
 * `reconnect`: a policy object, or a preset with field-by-field overrides. The expansion is
 * checked against the policy schema in the same validation pass, so a bad override is named by
 * its own path (e.g. `reconnect.step: mqttjs-default is a fixed policy; it takes delay, …`).
 */
export function withPresets<P extends z.ZodType>(policySchema: P) {
  const preset = presetObject.superRefine((p, ctx) => {
    const policy = PRESETS[p.preset].reconnect.policy;
    const foreign = Object.keys(p).filter(
      (k) =>
        p[k as keyof PresetInput] !== undefined &&
        k !== 'preset' &&
        k !== 'deviceDefaults' &&
        !POLICY_FIELDS[policy].includes(k),
    );
    for (const k of foreign) {
      ctx.addIssue({
        code: 'custom',
        path: [k],
        message: `${p.preset} is a ${policy} policy; it takes ${POLICY_FIELDS[policy].join(', ')}`,
      });
    }
    if (foreign.length > 0) return;
    const r = policySchema.safeParse(expandPresetPolicy(p));
    if (!r.success) for (const i of r.error.issues) ctx.addIssue({ code: 'custom', path: i.path, message: i.message });
  });
  return z.union([policySchema, preset]);
}
