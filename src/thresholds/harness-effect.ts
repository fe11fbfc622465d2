/**
 * Which failed thresholds the harness could have failed (pure): each is re-read with what the
 * harness added taken out, and kept when it would then pass.
 * - connect.total: read from connect.service (the same attempts with their schedule lag removed,
 *   exactly, per attempt), less the worst event-loop delay (a reply read late is timed late);
 * - other latencies: less the worst event-loop delay; recovery times: less delay and lag;
 * - counts and rates that timeouts move: when attempts timed out and some successful attempt came
 *   within the event-loop delay of the connect timeout, the harness may have pushed some over.
 * The harness only adds time, so a passing threshold stays passing; connect.scheduleLag measures
 * the harness itself and is never re-read.
 */
import type { Results, ThresholdResult } from '../results/types.js';
import { formatUs } from '../util/duration.js';
import { compareOp, observe } from './evaluate.js';
import { METRICS } from '../scenario/threshold-metrics.js';
import type { Threshold } from '../scenario/threshold-parse.js';

export interface HarnessDelay {
  loopDelayUs: number;
  scheduleLagUs: number;
}

export interface FlippedThreshold {
  metric: string;
  expression: string;
  observedText: string;
  withoutHarnessText: string;
}

const TIMEOUT_MOVED = new Set(['attempts.timedOut', 'errors.rate', 'connect.successRate', 'attempts.succeeded']);

function shortestConnectTimeoutUs(r: Omit<Results, 'thresholds'>): number {
  const all = [r.scenario.device.connectTimeoutUs, ...r.scenario.cohorts.map((c) => c.device.connectTimeoutUs)];
  return Math.min(...all);
}

function without(
  t: Threshold,
  r: Omit<Results, 'thresholds'>,
  h: HarnessDelay,
): { value: number; text: string } | null {
  const def = METRICS[t.metric];
  if (!def || t.metric === 'connect.scheduleLag') return null;
  if (def.kind === 'duration') {
    if (t.aggregation.kind === 'count') return null;
    const fromService = def.latencyKey === 'connect.total';
    const base = fromService ? observe({ ...t, metric: 'connect.service' }, r) : observe(t, r);
    if (base === null) return null;
    const value = Math.max(0, base - h.loopDelayUs);
    const what = fromService
      ? `the schedule lag and ${formatUs(h.loopDelayUs)} of event-loop delay`
      : `${formatUs(h.loopDelayUs)} of event-loop delay`;
    return { value, text: `would be ${formatUs(value)} without ${what}` };
  }
  if (def.kind === 'time') {
    const v = observe(t, r);
    if (v === null) return null;
    const value = Math.max(0, v - h.loopDelayUs - h.scheduleLagUs);
    return {
      value,
      text: `would be ${formatUs(value)} without ${formatUs(h.loopDelayUs)} of event-loop delay and ${formatUs(h.scheduleLagUs)} of schedule lag`,
    };
  }
  if (TIMEOUT_MOVED.has(t.metric) && r.attempts.timedOut > 0) {
    const service = r.latency['connect.service'];
    const timeoutUs = shortestConnectTimeoutUs(r);
    if (service && service.count > 0 && service.maxUs + h.loopDelayUs >= timeoutUs) {
      return {
        value: NaN,
        text:
          `successful connects took up to ${formatUs(service.maxUs)}, within the ${formatUs(h.loopDelayUs)} ` +
          `event-loop delay of the ${formatUs(timeoutUs)} connect timeout, so some of the ${r.attempts.timedOut} timeouts may be the harness’s`,
      };
    }
  }
  return null;
}

export function thresholdsTheHarnessCouldFlip(
  list: readonly Threshold[],
  evaluated: readonly ThresholdResult[],
  r: Omit<Results, 'thresholds'>,
  h: HarnessDelay,
): FlippedThreshold[] {
  const out: FlippedThreshold[] = [];
  list.forEach((t, i) => {
    const e = evaluated[i];
    if (!e || e.passed) return;
    const w = without(t, r, h);
    if (w === null) return;
    // NaN: a count the harness may have moved by an amount it cannot know.
    if (Number.isNaN(w.value) || compareOp(w.value, t.op, t.bound)) {
      out.push({
        metric: t.metric,
        expression: t.expression,
        observedText: e.observedText,
        withoutHarnessText: w.text,
      });
    }
  });
  return out;
}
