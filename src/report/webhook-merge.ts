/** Merges the webhook sink counts of shards (herd merge). */
import { addEncoded, createHistogram, summarize } from '../metrics/histogram.js';
import type { WebhookResult } from '../results/types.js';

/** Shards' sinks add up (each shard's target forwards to its own sink); latency histograms merge exactly. */
export function mergeWebhookResults(parts: readonly (WebhookResult | null | undefined)[]): WebhookResult | null {
  const present = parts.filter((p): p is WebhookResult => p !== null && p !== undefined);
  if (present.length === 0) return null;
  const sum = (k: Exclude<keyof WebhookResult, 'latency' | 'lossRate'>): number => present.reduce((a, p) => a + p[k], 0);
  const h = createHistogram();
  for (const p of present) if (p.latency !== null && p.latency.count > 0) addEncoded(h, p.latency.histogram);
  const sent = sum('sent');
  const lost = sum('lost');
  const out: WebhookResult = {
    sent,
    received: sum('received'),
    delivered: sum('delivered'),
    lost,
    duplicated: sum('duplicated'),
    outOfOrder: sum('outOfOrder'),
    tooLate: sum('tooLate'),
    foreign: sum('foreign'),
    malformed: sum('malformed'),
    rejected: sum('rejected'),
    lossRate: sent === 0 ? 0 : lost / sent,
    latency: h.totalCount === 0 ? null : summarize(h),
  };
  h.destroy();
  return out;
}
