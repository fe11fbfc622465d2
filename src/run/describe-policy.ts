/** A reconnect policy in words, as results.json's cohorts show it. */
import type { ResolvedReconnect } from '../results/resolved-scenario.js';
import { formatUs } from '../util/duration.js';

export function describePolicy(p: ResolvedReconnect): string {
  switch (p.policy) {
    case 'none':
      return 'none';
    case 'fixed':
      return `fixed ${formatUs(p.delayUs)}, ${describeJitter(p)}`;
    case 'linear':
      return `linear ${formatUs(p.initialUs)} +${formatUs(p.stepUs)} up to ${formatUs(p.maxUs)}, ${describeJitter(p)}`;
    case 'exponential':
      return `exponential ${formatUs(p.initialUs)} ×${p.multiplier} up to ${formatUs(p.maxUs)}, ${describeJitter(p)}`;
  }
}

// issue 16: the fields SDK presets add, said only when set.
function describeJitter(p: Exclude<ResolvedReconnect, { policy: 'none' }>): string {
  const share = p.jitter === 'proportional' ? ` ±${Math.round((p.jitterShare ?? 0.05) * 1000) / 10}%` : '';
  const reset = p.resetAfterUs === undefined ? '' : `, reset after ${formatUs(p.resetAfterUs)} connected`;
  return `jitter ${p.jitter}${share}${reset}`;
}
