/**
 * Field shapes the scenario schema and its parts share: durations, the bounds that keep a field
 * measurable, identity templates.
 */
import { z } from 'zod';
import { DURATION_HINT, DURATION_RE, parseDurationUs } from '../util/duration.js';

export const duration = z
  .string({ error: DURATION_HINT })
  .regex(DURATION_RE, { error: DURATION_HINT })
  .refine((v) => !DURATION_RE.test(v) || parseDurationUs(v) !== undefined, { error: 'expected a duration of at most 30 days' })
  .meta({ description: 'A duration: a number and a unit (us, ms, s, m, h), e.g. "30s".' });

/** Bounds that make a field measurable (exported: the reference and its test quote them). */
export const BOUNDS = {
  /** Below this a publish/request loop stops being telemetry and becomes a busy loop in the worker. */
  minEvery: '1ms',
  /** MQTT's keepalive is a 16-bit count of seconds. */
  maxKeepaliveS: 65_535,
  /** A handshake timer shorter than this expires before a loopback TCP connect completes. */
  minConnectTimeout: '10ms',
} as const;

/** A duration no shorter than `min` (a duration string), named in the message. */
export function durationAtLeast(min: string) {
  const minUs = parseDurationUs(min) as number;
  return duration.refine((v) => (parseDurationUs(v) ?? minUs) >= minUs, { error: `expected at least ${min}` });
}

export const template = z
  .string({ error: 'expected a template string such as "dev-{id}"' })
  .min(1, { error: 'expected non-empty text' })
  .max(1024, { error: 'expected at most 1,024 characters' })
  .meta({ description: 'Placeholders: {id} device index, {run} run id, {worker} worker index, {cohort}; {id/N} and {id%N} make devices share ids (N devices per id / N ids in all).' });
