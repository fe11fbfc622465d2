/**
 * Field shapes the scenario schema and its parts share: durations, the bounds that keep a field
 * measurable, identity templates.
 */
import { z } from 'zod';
import {
  IDENTITY_NAMES,
  TOPIC_NAMES,
  mqttStringProblem,
  placeholderProblem,
  topicNameProblem,
} from './template-rules.js';
import { DURATION_HINT, DURATION_RE, DURATION_TOO_LONG, parseDurationUs } from '../util/duration.js';

export const duration = z
  .string({ error: DURATION_HINT })
  .regex(DURATION_RE, { error: DURATION_HINT })
  .refine((v) => !DURATION_RE.test(v) || parseDurationUs(v) !== undefined, { error: DURATION_TOO_LONG })
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

/** True when the duration text is a whole number of seconds (0 included). */
export function isWholeSeconds(text: string): boolean {
  const us = parseDurationUs(text);
  return us === undefined || us % 1_000_000 === 0;
}

/** A duration of whole seconds (`why` says who counts in seconds), never rounded silently. */
export function wholeSeconds(why: string, base = duration) {
  return base.refine(isWholeSeconds, { error: `expected whole seconds (${why}), e.g. "2s"` });
}

const templateText = z
  .string({ error: 'expected a template string such as "dev-{id}"' })
  .min(1, { error: 'expected non-empty text' })
  .max(1024, { error: 'expected at most 1,024 characters' });

/** A template whose placeholders are `names`, and whose text (if given) passes `text`. */
function templateOf(names: readonly string[], text?: (t: string) => string | null) {
  return templateText.superRefine((v, ctx) => {
    const problem = placeholderProblem(v, names) ?? text?.(v) ?? null;
    if (problem !== null) ctx.addIssue({ code: 'custom', message: problem, input: v });
  });
}

const IDENTITY_HELP =
  'Placeholders: {id} device index, {run} run id, {worker} worker index, {cohort}; {id/N} and {id%N} make devices share ids (N devices per id / N ids in all). Any other {name} is an error.';

/** A client id or user name: an MQTT UTF-8 string. */
export const template = templateOf(IDENTITY_NAMES, mqttStringProblem).meta({ description: IDENTITY_HELP });
/** A password: MQTT binary data, any bytes. */
export const secretTemplate = templateOf(IDENTITY_NAMES).meta({ description: IDENTITY_HELP });
/** A websocket device's hello frame: free text (JSON braces are not placeholders). */
export const helloTemplate = z
  .string()
  .max(64 * 1024)
  .superRefine((v, ctx) => {
    const problem = placeholderProblem(v, IDENTITY_NAMES);
    if (problem !== null) ctx.addIssue({ code: 'custom', message: problem, input: v });
  });
/** A topic a device publishes to: no wildcards. */
export const topicTemplate = templateOf(TOPIC_NAMES, topicNameProblem);

/** A share of the fleet: a fraction in (0, 1] or a percentage string. */
export const share = z
  .union(
    [
      z.number().gt(0, { error: 'expected a share above 0' }).lte(1, { error: 'expected a share of at most 1 (100%)' }),
      z.string().regex(/^(100(\.0+)?|\d{1,2}(\.\d+)?)%$/, { error: 'expected a percentage like "25%"' }),
    ],
    { error: 'expected a share: a fraction like 0.25 or a percentage like "25%"' },
  )
  .meta({ description: 'A share of the fleet: 0.25 or "25%".' });
