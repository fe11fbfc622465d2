/**
 * What a device sends and receives besides its connection: telemetry it publishes, requests the
 * cloud asks it, downlink messages the cloud sends it whether it is online or not.
 */
import { z } from 'zod';
import { BOUNDS, duration, durationAtLeast, topicTemplate } from './schema-fields.js';

/** `publish.store` written out: each field falls back to the preset's (or herd's) default. */
export const storeObjectSchema = z
  .strictObject({
    resend: z.enum(['always', 'session', 'never'], { error: 'expected always, session or never' }).optional().meta({
      description:
        'Unacknowledged QoS 1/2 publishes are resent with DUP set after a reconnect: in any new session (always), only when the server resumed the session (session), or never.',
    }),
    offlineQueue: z
      .union([z.number().int().min(0).max(1_000_000), z.literal('unbounded')], {
        error: 'expected a whole number of messages (0 to 1000000) or unbounded',
      })
      .optional()
      .meta({
        description:
          'How many publishes due while offline the device holds and sends in order once back; 0: none (dropped by the device); unbounded: no limit.',
      }),
    overflow: z
      .enum(['dropOldest', 'dropNewest'], { error: 'expected dropOldest or dropNewest' })
      .optional()
      .meta({ description: 'Which message the device drops when its offline queue is full.' }),
    queueQos0: z
      .boolean({ error: 'expected true or false' })
      .optional()
      .meta({ description: 'QoS 0 publishes are queued offline too (false: dropped by the device).' }),
  })
  .meta({ description: 'A device message store, field by field.' });

export const storeSchema = z
  .union([z.literal('none'), storeObjectSchema], {
    error: 'expected none or an object { resend, offlineQueue, overflow, queueQos0 }',
  })
  .meta({
    description:
      "How the device keeps its telemetry across sessions (docs/presets.md): none (firmware that drops: no resend, no offline queue) or the fields to change. Default: the reconnect preset's SDK store, else none.",
  });

export type StoreInput = z.output<typeof storeSchema>;

export const publishSchema = z
  .strictObject({
    every: durationAtLeast(BOUNDS.minEvery).meta({
      description: 'Each connected device publishes once per this interval (at least 1ms).',
    }),
    qos: z.literal([0, 1, 2], { error: 'expected 0, 1 or 2' }).default(0),
    topic: topicTemplate.default('herd/{run}/{id}').meta({ description: 'Topic template; {id}, {run}, {cohort}.' }),
    payloadBytes: z
      .number()
      .int()
      .min(20)
      .max(256 * 1024)
      .default(64)
      .meta({ description: 'Payload size (at least 20: the id/sequence/time stamp).' }),
    echo: z.boolean().default(true).meta({
      description:
        'Each device subscribes to its own topic, so every message is counted end to end: delivered, lost, duplicated, out of order.',
    }),
    stopBeforeEnd: duration
      .default('2s')
      .meta({ description: 'Publishing stops this long before teardown so messages in flight can arrive.' }),
    store: storeSchema.optional(),
  })
  .meta({ description: 'Telemetry each device publishes while connected.' });

export const requestsSchema = z
  .strictObject({
    every: durationAtLeast(BOUNDS.minEvery).meta({
      description: 'The cloud sends each connected device one request per this interval (at least 1ms).',
    }),
    qos: z.literal([0, 1, 2], { error: 'expected 0, 1 or 2' }).default(1),
    payloadBytes: z
      .number()
      .int()
      .min(20)
      .max(256 * 1024)
      .default(32),
    stopBeforeEnd: duration
      .default('2s')
      .meta({ description: 'Requests stop this long before teardown so answers in flight can arrive.' }),
  })
  .meta({
    description:
      'Cloud → device requests ("call a function on a device"): a requester connection publishes to herd/{run}/{id}/req, the device answers on its reply topic, the round trip is timed. MQTT devices only.',
  });

export const downlinkSchema = z
  .strictObject({
    every: durationAtLeast(BOUNDS.minEvery).meta({
      description: 'The cloud sends each device one message per this interval, online or not (at least 1ms).',
    }),
    qos: z.literal([0, 1, 2], { error: 'expected 0, 1 or 2' }).default(1).meta({
      description:
        'QoS of the messages and of the inbox subscription; targets queue QoS 1 and 2 for offline persistent sessions.',
    }),
    payloadBytes: z
      .number()
      .int()
      .min(20)
      .max(256 * 1024)
      .default(32),
    stopBeforeEnd: duration
      .default('3s')
      .meta({ description: 'The cloud stops sending this long before teardown so queued messages can arrive.' }),
    from: duration.optional().meta({
      description:
        'The cloud sends only from this time after the run origin (e.g. a configuration push while the fleet is offline); default: from each device’s first subscription.',
    }),
    until: duration.optional().meta({
      description:
        'The cloud sends nothing at or after this time from the run origin; default: until teardown − stopBeforeEnd.',
    }),
  })
  .meta({
    description:
      'Cloud → device messages (commands, configuration): from its first subscription on, the cloud publishes to herd/{run}/{id}/in whether the device is online or not. Devices with a persistent session (cleanSession: false, or MQTT 5 sessionExpiry) get what was queued while offline replayed on reconnect; results.downlink counts sent, received, lost and the replay. MQTT devices only.',
  });
