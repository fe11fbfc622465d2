/**
 * Judges one level from its results.json (pure): the measured window after the settle period,
 * the stop conditions on that window, how the level tipped and which sign came first, and
 * whether the harness rather than the target was the limit.
 *
 * The window is taken from the per-second timeline, which counts an attempt in the second it
 * ended. Each level runs its settle wave, then its measure wave, then a drain long enough for
 * every attempt to end, so the window [settle, end) holds every measured attempt's outcome —
 * plus settle attempts still queued when it ended, which is the backlog the settle built and is
 * counted against the level on purpose.
 */
import { createHistogram, addEncoded, encodeHistogram } from '../../metrics/histogram.js';
import { isLoadShedding } from '../../results/shedding.js';
import { evaluateThresholds } from '../../thresholds/evaluate.js';
import { formatUs } from '../../util/duration.js';
import type { ErrorCount, Results, Threshold, ThresholdResult, TimelineBucket } from './deps.js';
import type { LevelVerdict } from './planner.js';
import type { LevelReport, TipEvidence, TipSignal } from '../../results/breakpoint-types.js';

export interface LevelWindow {
  rate: number;
  settleS: number;
  measureS: number;
}

/** A tcpConnect at or past this sits on the kernel's 1 s (then 3 s, 7 s) SYN-retransmit step. */
export const SYN_RETRANSMIT_US = 900_000;
/** Used for the per-second latency sign when the stop conditions bound no connect.total percentile. */
const DEFAULT_LATENCY_BOUND_US = 1_000_000;
/** Fixed order among signs first seen in the same second: causes before their consequences. */
const SIGNAL_ORDER: TipSignal[] = ['listen-queue', 'shedding', 'errors', 'latency', 'timeouts'];

type Judged = Omit<LevelReport, 'index' | 'phase' | 'runId' | 'resultsPath'>;

export function judgeLevel(r: Results, w: LevelWindow, stopWhen: readonly Threshold[]): Judged {
  const inWindow = r.timeline.buckets.filter((b) => b.t >= w.settleS);
  const endS = inWindow.length > 0 ? Math.max(...inWindow.map((b) => b.t)) + 1 : w.settleS;
  const sum = (k: 'succeeded' | 'failed' | 'timedOut'): number => inWindow.reduce((a, b) => a + b[k], 0);
  const succeeded = sum('succeeded');
  const failed = sum('failed');
  const timedOut = sum('timedOut');
  const shedShare = shedShareOfProtocol(r.errors);
  const shed = Math.round(inWindow.reduce((a, b) => a + b.errorsByOrigin.protocol, 0) * shedShare);
  const ended = succeeded + failed + timedOut;

  const h = createHistogram();
  for (const b of inWindow) if (b.connectHistogram !== null) addEncoded(h, b.connectHistogram);
  const connect = h.totalCount === 0 ? null : { p50: h.getValueAtPercentile(50), p99: h.getValueAtPercentile(99) };
  const windowLatency = { ...r.latency };
  if (h.totalCount > 0) {
    const prior = r.latency['connect.total'];
    windowLatency['connect.total'] = {
      ...(prior ?? { minUs: 0, meanUs: 0, p90Us: 0, p999Us: 0, maxUs: 0 }),
      count: h.totalCount,
      p50Us: connect?.p50 ?? 0,
      p99Us: connect?.p99 ?? 0,
      histogram: encodeHistogram(h),
    };
  } else delete windowLatency['connect.total'];
  h.destroy();

  const windowResults = {
    ...r,
    attempts: { ...r.attempts, started: ended, succeeded, failed, timedOut },
    latency: windowLatency,
  };
  const conditions = evaluateWindow(stopWhen, windowResults, ended, shed);
  const brokenBy = [...new Set(conditions.filter((c) => !c.passed).map((c) => c.metric))];
  const tcpP99 = r.latency['phase.tcpConnect'];
  const tcpConnectP99Us = tcpP99 && tcpP99.count > 0 ? tcpP99.p99Us : null;
  const tipping = tippingSigns(inWindow, r.errors, shedShare, latencyBoundUs(stopWhen), tcpConnectP99Us);

  const harness = harnessEffect(r, stopWhen, windowResults, ended, shed, brokenBy.length > 0);
  const verdict: LevelVerdict = harness.limited ? 'harness' : brokenBy.length > 0 ? 'failed' : 'passed';

  return {
    rate: w.rate,
    verdict,
    window: { settleS: w.settleS, endS },
    offeredPerS: w.rate,
    achievedPerS: Math.round((succeeded / w.measureS) * 10) / 10,
    ended: { succeeded, failed, timedOut, shed },
    errorRate: ended === 0 ? null : (failed + timedOut) / ended,
    shedRate: ended === 0 ? null : shed / ended,
    connectP50Us: connect?.p50 ?? null,
    connectP99Us: connect?.p99 ?? null,
    tcpConnectP99Us,
    stopConditions: conditions,
    brokenBy,
    tipping,
    harness,
  };
}

/** At a tipping point every "server unavailable" (CONNACK 3) is a sign of shedding, whatever the target. */
function isShed(e: ErrorCount): boolean {
  return isLoadShedding(e, true);
}

/** Share of the level's protocol rejections that were deliberate shedding (the timeline has origins only). */
function shedShareOfProtocol(errors: readonly ErrorCount[]): number {
  const protocol = errors.filter((e) => e.origin === 'protocol');
  const all = protocol.reduce((a, e) => a + e.count, 0);
  const shed = protocol.filter(isShed).reduce((a, e) => a + e.count, 0);
  return all === 0 ? 0 : shed / all;
}

function evaluateWindow(stopWhen: readonly Threshold[], wr: Results, ended: number, shed: number): ThresholdResult[] {
  const plain = stopWhen.filter((t) => t.metric !== 'shed.rate');
  const out = evaluateThresholds(plain, wr);
  for (const t of stopWhen.filter((x) => x.metric === 'shed.rate')) {
    const observed = ended === 0 ? null : shed / ended;
    const [res] = evaluateThresholds([{ ...t, metric: 'errors.rate' }], {
      ...wr,
      attempts: { ...wr.attempts, started: ended, failed: shed, timedOut: 0 },
    });
    out.push({ ...(res as ThresholdResult), metric: 'shed.rate', observed });
  }
  // Listed in the user's order, so "brokenBy" reads as written.
  const order = new Map(stopWhen.map((t, i) => [`${t.metric} ${t.expression}`, i]));
  return out.sort(
    (a, b) => (order.get(`${a.metric} ${a.expression}`) ?? 0) - (order.get(`${b.metric} ${b.expression}`) ?? 0),
  );
}

/**
 * Whether the harness, not the target, decided this level (judged by its
 * effect): attempts it never started, lost or failed locally, a schedule lag past 1 s, or a run
 * that did not complete always count. A flagged harness (event-loop delay) otherwise counts only
 * when taking its lag out of the latency would turn the level's failure into a pass: a level that
 * passed anyway, or fails on the target's own service time, errors, timeouts or shedding, stands.
 */
function harnessEffect(
  r: Results,
  stopWhen: readonly Threshold[],
  wr: Results,
  ended: number,
  shed: number,
  failed: boolean,
): { limited: boolean; flagged: boolean; reasons: string[] } {
  const reasons: string[] = [];
  if (r.attempts.dropped > 0)
    reasons.push(`${r.attempts.dropped} attempts could not be started in time by the harness`);
  if (r.attempts.lostToHarness > 0) reasons.push(`${r.attempts.lostToHarness} attempts lost to a failed worker`);
  if (r.run.status !== 'completed')
    reasons.push(`the level run was ${r.run.status}: ${r.run.abortReason ?? 'no reason given'}`);
  const local = r.errors.filter((e) => e.origin === 'local').reduce((a, e) => a + e.count, 0);
  if (local > 0)
    reasons.push(
      `${local} attempts failed on a harness resource (${topCodes(r.errors.filter((e) => e.origin === 'local'))})`,
    );
  const lag = r.latency['connect.scheduleLag'];
  if (lag && lag.count > 0 && lag.p99Us > SCHEDULE_LAG_LIMIT_US)
    reasons.push(
      `attempts started up to ${formatUs(lag.p99Us)} (p99) after their intended time: the offered rate was not delivered`,
    );
  const flagged = r.health.saturated;
  if (reasons.length > 0) return { limited: true, flagged, reasons: [...reasons, ...r.health.reasons] };
  if (!flagged || !failed)
    return {
      limited: false,
      flagged,
      reasons: flagged ? r.health.reasons.map((x) => `flagged, no effect on the verdict: ${x}`) : [],
    };
  const service = r.latency['connect.service'];
  const withoutLag = { ...wr, latency: { ...wr.latency, ...(service ? { 'connect.total': service } : {}) } } as Results;
  const stillFails = evaluateWindow(stopWhen, withoutLag, ended, shed).some((c) => !c.passed);
  if (stillFails)
    return {
      limited: false,
      flagged,
      reasons: r.health.reasons.map((x) => `flagged, but the level fails on the target's own service time too: ${x}`),
    };
  return {
    limited: true,
    flagged,
    reasons: [`without the harness's own lag the level would pass`, ...r.health.reasons],
  };
}

/** The same limit as the run's saturation judgement. */
const SCHEDULE_LAG_LIMIT_US = 1_000_000;

function latencyBoundUs(stopWhen: readonly Threshold[]): number {
  const t = stopWhen.find((x) => x.metric === 'connect.total' && x.aggregation.kind === 'percentile');
  return t ? t.bound : DEFAULT_LATENCY_BOUND_US;
}

function tippingSigns(
  window: readonly TimelineBucket[],
  errors: readonly ErrorCount[],
  shedShare: number,
  boundUs: number,
  tcpConnectP99Us: number | null,
): TipEvidence[] {
  const first = (pred: (b: TimelineBucket) => boolean): number | null => window.find(pred)?.t ?? null;
  const signs: TipEvidence[] = [];
  const timeoutsAt = first((b) => b.timedOut > 0);
  if (timeoutsAt !== null)
    signs.push({ signal: 'timeouts', firstAtS: timeoutsAt, detail: "attempts ended by herd's connect timeout" });
  const shedAt = shedShare > 0 ? first((b) => b.errorsByOrigin.protocol > 0) : null;
  if (shedAt !== null)
    signs.push({
      signal: 'shedding',
      firstAtS: shedAt,
      detail: `target shed load (${topCodes(errors.filter(isShed))})`,
    });
  const hard = errors.filter((e) => e.origin !== 'timeout' && e.origin !== 'local' && !isShed(e));
  const errorsAt =
    hard.length > 0
      ? first(
          (b) => b.errorsByOrigin.network + b.errorsByOrigin.tls + (shedShare < 1 ? b.errorsByOrigin.protocol : 0) > 0,
        )
      : null;
  if (errorsAt !== null)
    signs.push({
      signal: 'errors',
      firstAtS: errorsAt,
      detail: `target refused or broke connections (${topCodes(hard)})`,
    });
  const latencyAt = first((b) => b.connectP99Us !== null && b.connectP99Us > boundUs);
  if (latencyAt !== null)
    signs.push({
      signal: 'latency',
      firstAtS: latencyAt,
      detail: `connect p99 within a second passed ${formatUs(boundUs)}`,
    });
  const synTimeouts = errors
    .filter((e) => e.origin === 'timeout' && e.phase === 'tcpConnect')
    .reduce((a, e) => a + e.count, 0);
  if (tcpConnectP99Us !== null && tcpConnectP99Us >= SYN_RETRANSMIT_US) {
    signs.push({
      signal: 'listen-queue',
      firstAtS: latencyAt,
      detail: `tcpConnect p99 ${formatUs(tcpConnectP99Us)}: on the 1 s/3 s SYN-retransmit steps — the target's listen queue overflowed`,
    });
  } else if (synTimeouts > 0) {
    // A SYN the kernel dropped is resent after 1 s: with a shorter connect timeout it shows as a timeout in tcpConnect.
    signs.push({
      signal: 'listen-queue',
      firstAtS: timeoutsAt,
      detail: `${synTimeouts} attempts timed out before TCP connected (no SYN-ACK: the target's listen queue was full)`,
    });
  }
  const rank = (s: TipEvidence): number =>
    (s.firstAtS ?? Number.MAX_SAFE_INTEGER) * 10 + SIGNAL_ORDER.indexOf(s.signal);
  return signs.sort((a, b) => rank(a) - rank(b));
}

function topCodes(list: readonly ErrorCount[]): string {
  const by = new Map<string, number>();
  for (const e of list) by.set(e.code, (by.get(e.code) ?? 0) + e.count);
  return [...by.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([c, n]) => `${n}× ${c}`)
    .join(', ');
}
