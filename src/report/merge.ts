/**
 * `herd merge`: combines shard results into one results.json, exactly (MEASUREMENT.md rule 8):
 * histograms are added, counters summed per aligned second, percentiles computed once at the end,
 * thresholds evaluated globally on the merged data. Pure: results in, results out.
 */
import { HerdError, EXIT } from '../errors.js';
import { addEncoded, createHistogram, encodeHistogram, summarize, type Histogram } from '../metrics/histogram.js';
import { zeroByOrigin } from '../metrics/aggregate.js';
import { parseThresholds } from '../scenario/threshold-parse.js';
import { evaluateThresholds } from '../thresholds/evaluate.js';
import { checkAccounting, recoveryPercentiles } from '../metrics/accounting.js';
import { firstSecondAfter, peakSucceededPerS } from './labels.js';
import { mergeWebhookResults } from './webhook-merge.js';
import { mergeDownlink } from '../results/downlink.js';
import type { Attempts, CohortResult, DeliveryCounts, DeliveryResult, ErrorCount, LatencySummary, OutageResult, Results, TimelineBucket } from '../results/types.js';

function problem(message: string, details: string[] = []): never {
  throw new HerdError('E_RESULTS_FILE', message, details);
}

/** Checks that the files are the complete, distinct shards of one run of one scenario. */
export function checkShards(inputs: readonly { path: string; results: Results }[]): void {
  if (inputs.length === 0) problem('no results files to merge');
  const first = inputs[0] as { path: string; results: Results };
  const key = (r: Results): string => JSON.stringify([r.scenario.name, r.scenario.seed, r.scenario.devices, r.scenario.scale, r.run.shard?.count ?? 1]);
  const mismatched = inputs.filter((x) => key(x.results) !== key(first.results));
  if (mismatched.length > 0) {
    problem(
      'the files are not shards of the same run (scenario, seed, devices, scale and shard count must match)',
      inputs.map((x) => `${x.path}: scenario "${x.results.scenario.name}", seed ${x.results.scenario.seed}, ${x.results.scenario.devices} devices, scale ${x.results.scenario.scale}, shard ${x.results.run.shard ? `${x.results.run.shard.index}/${x.results.run.shard.count}` : 'none'}`),
    );
  }
  const count = first.results.run.shard?.count ?? 1;
  const seen = new Map<number, string>();
  const details: string[] = [];
  for (const x of inputs) {
    const i = x.results.run.shard?.index ?? 1;
    const other = seen.get(i);
    if (other !== undefined) details.push(`shard ${i}/${count} appears twice: ${other} and ${x.path}`);
    seen.set(i, x.path);
  }
  for (let i = 1; i <= count; i++) if (!seen.has(i)) details.push(`shard ${i}/${count} is missing`);
  if (details.length > 0) problem(`cannot merge: the shards of ${count} are not each present exactly once`, details);
}

export function mergeResults(inputs: readonly { path: string; results: Results }[], mergedId: string): Results {
  checkShards(inputs);
  const all = inputs.map((x) => x.results).sort((a, b) => (a.run.shard?.index ?? 1) - (b.run.shard?.index ?? 1));
  const first = all[0] as Results;

  const attempts = sumRecords(all.map((r) => r.attempts as unknown as Record<string, number>)) as unknown as Attempts;
  const latency: Record<string, LatencySummary> = {};
  for (const key of new Set(all.flatMap((r) => Object.keys(r.latency)))) {
    latency[key] = mergeSummaries(all.map((r) => r.latency[key]));
  }
  const errors = mergeErrors(all.map((r) => r.errors));
  const buckets = mergeTimeline(all.map((r) => r.timeline.buckets));
  const cohorts: Record<string, CohortResult> = {};
  for (const name of Object.keys(first.cohorts ?? {})) {
    const parts = all.map((r) => r.cohorts[name]).filter((c): c is CohortResult => c !== undefined);
    const lat: Record<string, LatencySummary> = {};
    for (const k of new Set(parts.flatMap((c) => Object.keys(c.latency)))) lat[k] = mergeSummaries(parts.map((c) => c.latency[k]));
    cohorts[name] = {
      devices: (first.cohorts[name] as CohortResult).devices,
      reconnectPolicy: (first.cohorts[name] as CohortResult).reconnectPolicy,
      attempts: sumRecords(parts.map((c) => c.attempts)) as CohortResult['attempts'],
      latency: lat,
      errors: mergeErrors(parts.map((c) => c.errors)),
    };
  }
  const outages: OutageResult[] = (first.outages ?? []).map((o, i) => {
    const parts = all.map((r) => r.outages[i]).filter((x): x is OutageResult => x !== undefined);
    const rec = addAll(parts.map((p) => p.recoveryHistogram));
    const att = addAll(parts.map((p) => p.attemptsHistogram));
    const dropped = parts.reduce((a, p) => a + p.dropped, 0);
    const recovered = parts.reduce((a, p) => a + p.recovered, 0);
    const after = buckets.filter((b) => b.t >= Math.floor(o.atUs / 1e6));
    return {
      ...o,
      dropped,
      recovered,
      recovery: recoveryPercentiles({ dropped, recovered, recoveryUs: rec, attempts: att }),
      reconnectAttempts: {
        p50: att.totalCount === 0 ? 0 : att.getValueAtPercentile(50),
        p99: att.totalCount === 0 ? 0 : att.getValueAtPercentile(99),
        max: att.totalCount === 0 ? 0 : att.maxValue,
      },
      recoveryHistogram: encodeHistogram(rec),
      attemptsHistogram: encodeHistogram(att),
      peakAttemptsPerS: Math.max(0, ...after.map((b) => b.attempts)),
      peakHandshaking: Math.max(0, ...after.map((b) => b.peakHandshaking)),
      peakSucceededPerSAfterEnd: peakSucceededPerS(buckets, firstSecondAfter(o.atUs + o.offlineUs)),
    };
  });
  const aborted = all.some((r) => r.run.status === 'aborted');
  const saturated = all.some((r) => r.health.saturated);
  const affectsVerdict = all.some((r) => r.health.affectsVerdict);
  const allowSaturated = all.every((r) => r.run.allowSaturated);
  const perShard = (pick: (r: Results) => readonly string[]): string[] => all.flatMap((r) => pick(r).map((x) => `shard ${r.run.shard?.index ?? 1}: ${x}`));
  const accounting = checkAccounting(attempts);
  const startedAt = all.map((r) => r.run.startedAt).sort()[0] as string;
  const endedAt = all.map((r) => r.run.endedAt).sort().at(-1) as string;
  const merged: Omit<Results, 'thresholds'> = {
    ...first,
    run: {
      ...first.run,
      id: mergedId,
      status: aborted ? 'aborted' : 'completed',
      startedAt,
      endedAt,
      abortedAt: aborted ? (all.find((r) => r.run.abortedAt !== null)?.run.abortedAt ?? null) : null,
      abortReason: aborted ? all.filter((r) => r.run.abortReason !== null).map((r) => `shard ${r.run.shard?.index}: ${r.run.abortReason}`).join('; ') : null,
      durationMs: Date.parse(endedAt) - Date.parse(startedAt),
      workers: all.reduce((a, r) => a + r.run.workers, 0),
      shard: null,
      clockOffsetMs: Math.max(...all.map((r) => Math.abs(r.run.clockOffsetMs ?? 0))),
      mergedFrom: all.map((r) => r.run.id),
      allowSaturated,
    },
    attempts,
    accounting,
    latency,
    errors,
    timeline: { bucketMs: first.timeline.bucketMs, buckets },
    health: {
      saturated,
      affectsVerdict,
      reasons: perShard((r) => r.health.reasons),
      effects: perShard((r) => r.health.effects),
      notCounted: perShard((r) => r.health.notCounted),
      advice: [...new Set(all.flatMap((r) => r.health.advice))],
      workerFailures: perShard((r) => r.health.workerFailures ?? []),
      workers: all.flatMap((r, s) => r.health.workers.map((w) => ({ ...w, worker: s * 1000 + w.worker }))),
    },
    storm: {
      peakAttemptsPerS: Math.max(0, ...buckets.map((b) => b.attempts)),
      peakSucceededPerS: peakSucceededPerS(buckets),
      peakHandshaking: Math.max(0, ...buckets.map((b) => b.peakHandshaking)),
      disconnects: all.reduce((a, r) => a + r.storm.disconnects, 0),
      outageDrops: all.reduce((a, r) => a + r.storm.outageDrops, 0),
    },
    cohorts,
    outages,
    delivery: mergeDelivery(all.map((r) => r.delivery)),
    requests: all.some((r) => r.requests)
      ? sumRecords(all.map((r) => r.requests ?? { sent: 0, answered: 0, lost: 0 }))
      : null,
    downlink: mergeDownlink(all.map((r) => r.downlink)),
    sessions: (() => {
      const present = all.reduce((a, r) => a + (r.sessions?.present ?? 0), 0);
      return { present, presentRate: attempts.succeeded === 0 ? 0 : present / attempts.succeeded };
    })(),
    serverSignals: sumRecords(all.map((r) => r.serverSignals ?? {})),
    webhook: mergeWebhookResults(all.map((r) => r.webhook)),
  };
  const parsed = parseThresholds(first.scenario.thresholds);
  const thresholds = evaluateThresholds(parsed.thresholds, merged);
  const passed = thresholds.every((t) => t.passed);
  const workerFailed = all.some((r) => (r.health.workerFailures ?? []).length > 0);
  const exitCode = aborted ? EXIT.interrupted : !accounting.balanced || (affectsVerdict && !allowSaturated) || workerFailed ? EXIT.runFailed : passed ? EXIT.ok : EXIT.thresholdFailed;
  return { ...merged, run: { ...merged.run, exitCode, verdict: exitCode === EXIT.ok ? 'passed' : 'failed' }, thresholds };
}

/** Each shard's devices publish and receive their own messages, so delivery counts add up. */
function mergeDelivery(parts: readonly (DeliveryResult | null | undefined)[]): DeliveryResult | null {
  const present = parts.filter((p): p is DeliveryResult => p !== null && p !== undefined);
  if (present.length === 0) return null;
  const byCohort: Record<string, DeliveryCounts> = {};
  for (const p of present) {
    for (const [name, c] of Object.entries(p.byCohort)) {
      byCohort[name] = byCohort[name] ? sumRecords([byCohort[name] as DeliveryCounts, c]) : { ...c };
    }
  }
  const total = sumRecords(present.map(({ byCohort: _b, lossRate: _l, refused: _r, ...c }) => c as DeliveryCounts));
  return { ...total, lossRate: total.sent === 0 ? 0 : total.lost / total.sent, refused: present.reduce((a, p) => a + p.refused, 0), byCohort };
}

function sumRecords<T extends object>(list: readonly T[]): T {
  const out: Record<string, number> = {};
  for (const r of list) for (const [k, v] of Object.entries(r) as [string, number][]) out[k] = (out[k] ?? 0) + v;
  return out as T;
}

function addAll(encoded: readonly (string | undefined)[]): Histogram {
  const h = createHistogram();
  for (const e of encoded) if (e !== undefined && e !== '') addEncoded(h, e);
  return h;
}

function mergeSummaries(parts: readonly (LatencySummary | undefined)[]): LatencySummary {
  const h = addAll(parts.filter((p): p is LatencySummary => p !== undefined && p.count > 0).map((p) => p.histogram));
  const s = summarize(h);
  h.destroy();
  return s;
}

function mergeErrors(lists: readonly ErrorCount[][]): ErrorCount[] {
  const m = new Map<string, ErrorCount>();
  for (const list of lists) {
    for (const e of list) {
      const k = `${e.origin}|${e.phase}|${e.code}`;
      const cur = m.get(k);
      if (cur) cur.count += e.count;
      else m.set(k, { ...e });
    }
  }
  return [...m.values()].sort((a, b) => b.count - a.count || a.code.localeCompare(b.code));
}

/** Shards share one origin (--start-at), so their seconds line up: sum them, re-derive percentiles. */
function mergeTimeline(timelines: readonly TimelineBucket[][]): TimelineBucket[] {
  const last = Math.max(-1, ...timelines.map((t) => t.length - 1));
  const out: TimelineBucket[] = [];
  for (let t = 0; t <= last; t++) {
    const parts = timelines.map((tl) => tl[t] ?? tl.at(-1)).filter((b): b is TimelineBucket => b !== undefined);
    const own = timelines.map((tl) => tl[t]).filter((b): b is TimelineBucket => b !== undefined);
    const h = addAll(own.map((b) => b.connectHistogram ?? undefined));
    const has = h.totalCount > 0;
    const byOrigin = zeroByOrigin();
    for (const b of own) for (const [o, n] of Object.entries(b.errorsByOrigin)) byOrigin[o as keyof typeof byOrigin] += n;
    const sum = (
      k: 'attempts' | 'succeeded' | 'failed' | 'timedOut' | 'dropped' | 'disconnects' | 'reconnects' | 'offlineAttempts' | 'peakHandshaking' | 'messagesSent' | 'messagesDelivered',
    ): number =>
      own.reduce((a, b) => a + (b[k] ?? 0), 0);
    out.push({
      t,
      attempts: sum('attempts'),
      succeeded: sum('succeeded'),
      failed: sum('failed'),
      timedOut: sum('timedOut'),
      dropped: sum('dropped'),
      disconnects: sum('disconnects'),
      // A shard that has finished keeps its last gauge (0 after teardown).
      connected: parts.reduce((a, b) => a + (b.t === t ? b.connected : 0), 0),
      handshaking: own.reduce((a, b) => a + b.handshaking, 0),
      errorsByOrigin: byOrigin,
      connectP50Us: has ? h.getValueAtPercentile(50) : null,
      connectP90Us: has ? h.getValueAtPercentile(90) : null,
      connectP99Us: has ? h.getValueAtPercentile(99) : null,
      connectMaxUs: has ? h.maxValue : null,
      loopDelayP99Us: own.some((b) => b.loopDelayP99Us !== null) ? Math.max(...own.map((b) => b.loopDelayP99Us ?? 0)) : null,
      reconnects: sum('reconnects'),
      offlineAttempts: sum('offlineAttempts'),
      peakHandshaking: sum('peakHandshaking'),
      connectHistogram: has ? encodeHistogram(h) : null,
      harnessRssBytes: own.some((b) => b.harnessRssBytes !== null) ? own.reduce((a, b) => a + (b.harnessRssBytes ?? 0), 0) : null,
      messagesSent: sum('messagesSent'),
      messagesDelivered: sum('messagesDelivered'),
    });
    h.destroy();
  }
  return out;
}
