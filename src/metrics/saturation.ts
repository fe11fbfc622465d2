/**
 * Decides whether the harness, not the target, was the bottleneck (MEASUREMENT.md rule 4).
 * Pure: a function of the per-worker health samples and the local-error count.
 */
import type { HealthSample } from './health-sample.js';
import { LOCAL_ADVICE } from './local-advice.js';
import type { ErrorCount } from '../results/types.js';
import { formatUs } from '../util/duration.js';

export interface SaturationLimits {
  /** Event-loop delay p99 within one second. */
  loopDelayP99Us: number;
  /** Event-loop utilisation sustained for `sustainedSeconds`. */
  loopUtilisation: number;
  sustainedSeconds: number;
  /** Worst delay between an attempt's intended time and its socket opening, within one second. */
  scheduleLagUs: number;
}

export const DEFAULT_LIMITS: SaturationLimits = {
  loopDelayP99Us: 200_000,
  loopUtilisation: 0.95,
  sustainedSeconds: 3,
  scheduleLagUs: 1_000_000,
};

export function assessSaturation(
  samples: readonly { worker: number; t: number; sample: HealthSample }[],
  errors: readonly ErrorCount[],
  limits: SaturationLimits = DEFAULT_LIMITS,
): { saturated: boolean; reasons: string[] } {
  const reasons: string[] = [];
  const byWorker = new Map<number, { t: number; sample: HealthSample }[]>();
  for (const s of samples) {
    const list = byWorker.get(s.worker) ?? [];
    list.push(s);
    byWorker.set(s.worker, list);
  }
  for (const [worker, list] of [...byWorker.entries()].sort((a, b) => a[0] - b[0])) {
    list.sort((a, b) => a.t - b.t);
    const delayed = list.filter((s) => s.sample.loopDelayP99Us > limits.loopDelayP99Us);
    if (delayed.length > 0) {
      const worst = Math.max(...delayed.map((s) => s.sample.loopDelayP99Us));
      reasons.push(
        `worker ${worker}: event-loop delay p99 reached ${formatUs(worst)} in ${delayed.length}s (limit ${formatUs(limits.loopDelayP99Us)})`,
      );
    }
    let run = 0;
    let longest = 0;
    for (const s of list) {
      run = s.sample.loopUtilisation >= limits.loopUtilisation ? run + 1 : 0;
      longest = Math.max(longest, run);
    }
    if (longest >= limits.sustainedSeconds) {
      reasons.push(`worker ${worker}: event loop ≥${Math.round(limits.loopUtilisation * 100)}% busy for ${longest}s in a row`);
    }
    const lagged = list.filter((s) => s.sample.scheduleLagMaxUs > limits.scheduleLagUs);
    if (lagged.length > 0) {
      const worst = Math.max(...lagged.map((s) => s.sample.scheduleLagMaxUs));
      reasons.push(`worker ${worker}: attempts started up to ${formatUs(worst)} after their intended time (limit ${formatUs(limits.scheduleLagUs)})`);
    }
  }
  for (const e of errors) {
    if (e.origin !== 'local') continue;
    reasons.push(`${e.count}× ${e.code} in the harness: ${LOCAL_ADVICE[e.code] ?? 'a local resource ran out'}`);
  }
  return { saturated: reasons.length > 0, reasons };
}
