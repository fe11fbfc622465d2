/**
 * The headline numbers of a run, worded once (pure). Every format — terminal, Markdown, HTML,
 * JUnit — prints these strings, so one run cannot show two success shares, two meanings of
 * "failed" or a peak that is attempts in one place and successes in another.
 */
import { isLoadShedding } from '../results/shedding.js';
import type { DeliveryCounts, ErrorCount, OutageResult, Results } from '../results/types.js';
import { formatUs } from '../util/duration.js';
import { peakSucceededPerS, percentOf } from './labels.js';
import { nextStartUs, outagePeaks } from '../metrics/outage-peaks.js';

/** Phases of errors that are not connect attempts: lost sessions, refused subscriptions and publishes. */
const SESSION_PHASE = 'held';
const MESSAGE_PHASES = new Set(['subscribe', 'publish']);

export function isConnectError(e: ErrorCount): boolean {
  return e.phase !== SESSION_PHASE && !MESSAGE_PHASES.has(e.phase);
}

export interface Shedding {
  /** Connect attempts the target refused to shed load (CONNACK 0x89/0x9F, HTTP 429/503). */
  connects: number;
  /** Held sessions the target ended to shed load (DISCONNECT 0x89/0x9F, WebSocket close 1013). */
  sessions: number;
}

export function shedding(r: Results): Shedding {
  let connects = 0;
  let sessions = 0;
  for (const e of r.errors) {
    if (!isLoadShedding(e, r.run.embeddedTarget)) continue;
    if (e.phase === SESSION_PHASE) sessions += e.count;
    else connects += e.count;
  }
  return { connects, sessions };
}

export interface RunFacts {
  /** "succeeded 6000 of 6357 started (94.4%)": the one success share, of attempts sent. */
  success: string;
  /** "connects failed 0 · timed out 357": connect attempts that did not succeed. */
  connectFailures: string;
  /** "errors.rate 5.62% = (failed 0 + timed out 357) / 6357 started" */
  errorsRate: string;
  /** "sessions lost 926 of 6000 established (15.4%)": sessions killed after connecting. */
  sessionsLost: string;
  /** "peak 1602 successes/s · 4050 attempts/s · 2267 handshakes in flight" */
  peaks: string;
  /** null when the target shed nothing. */
  shedding: string | null;
  /** One line per outage: recovery and the peak of successes after it ended. */
  outages: string[];
  /** "mqtt://127.0.0.1:40123 (embedded target, profile protected: …)" */
  target: string;
}

export function successText(r: Results): string {
  const a = r.attempts;
  return (
    `succeeded ${a.succeeded} of ${a.started} started` +
    (a.started === 0 ? '' : ` (${percentOf(a.succeeded, a.started)})`)
  );
}

/** Peaks read from the timeline buckets (so files written before results 1.1 show them too). */
export function timelinePeaks(r: Results): { succeededPerS: number; attemptsPerS: number; handshaking: number } {
  const b = r.timeline.buckets;
  return {
    succeededPerS: peakSucceededPerS(b),
    attemptsPerS: b.reduce((m, x) => Math.max(m, x.attempts), 0),
    handshaking: b.reduce((m, x) => Math.max(m, x.peakHandshaking ?? 0), 0),
  };
}

/** As a run now writes it (up to the next outage), also for files written before. */
export function outagePeakAfterEnd(r: Results, o: OutageResult): number {
  const next = nextStartUs(
    o.atUs,
    r.outages.map((x) => x.atUs),
  );
  return outagePeaks(r.timeline.buckets, o, next).peakSucceededPerSAfterEnd;
}

export function outageText(o: OutageResult, peakAfterEnd: number = o.peakSucceededPerSAfterEnd): string {
  const fmt = (v: number | null): string => (v === null ? 'never' : formatUs(v));
  // Devices still out when the run ended are named, not left for the reader to subtract.
  const again = o.interrupted;
  const notBack = o.dropped - o.recovered - again;
  const head =
    `${o.name}: ${outageWindowText(o)} · hit ${o.dropped} · back ${o.recovered}` +
    (again > 0 ? ` · ${again} hit by a later outage before they were back` : '') +
    (notBack > 0 ? ` · ${notBack} not back by the end` : '');
  if (o.dropped === 0) return `${head} · no device was hit, nothing to recover`;
  return (
    `${head} · 50% ${fmt(o.recovery.p50Us)} · 90% ${fmt(o.recovery.p90Us)} · 99% ${fmt(o.recovery.p99Us)} · all ${fmt(o.recovery.p100Us)}` +
    ` · peak ${peakAfterEnd} successes/s after it ended`
  );
}

function outageWindowText(o: OutageResult): string {
  if (o.side === 'declared')
    return `declared (scenario commands) at ${formatUs(o.atUs)} for ${formatUs(o.offlineUs)} · ${commandsText(o)}`;
  if (o.side !== 'observed') return `${o.mode} at ${formatUs(o.atUs)} for ${formatUs(o.offlineUs)}`;
  // Not planned: say so, and what ended it (the target accepting a connect again), or that nothing did.
  const ended =
    o.targetAcceptedAgain === false
      ? 'the target never accepted a connect again'
      : `the target accepted again ${formatUs(o.offlineUs)} later`;
  return `outage herd did not cause, from ${formatUs(o.atUs)}; ${ended}`;
}

/** What a declared outage's commands did, one clause each; a failed one in capitals, so no one reads past it. */
export function commandsText(o: OutageResult): string {
  const list = o.commands ?? [];
  if (list.length === 0) return 'commands not recorded';
  return list
    .map((c) => {
      const took = c.durationUs === null ? '' : ` after ${formatUs(c.durationUs)}`;
      switch (c.outcome) {
        case 'ok':
          return `${c.role} ok${took}`;
        case 'other-shard':
          return `${c.role} run by shard 1`;
        case 'not-run':
          return `${c.role} NOT RUN (the run stopped first)`;
        case 'failed':
          return `${c.role} FAILED (${c.signal !== null ? `ended by ${c.signal}` : `exit code ${c.exitCode}`}${took})`;
        case 'timeout':
          return `${c.role} TIMED OUT${took}`;
        case 'interrupted':
          return `${c.role} INTERRUPTED${took}`;
        case 'spawn-error':
          return `${c.role} COULD NOT START (${c.note ?? 'no shell'})`;
      }
    })
    .join(', ');
}

/**
 * The headline when no device ever connected, or the target took the fleet away for good: an
 * observed outage the target never accepted a connect after, or (observed outages off) a run whose
 * sessions were lost and that had no device connected when teardown began. Null otherwise.
 */
export function fleetLostText(r: Results): string | null {
  if (r.attempts.started > 0 && r.attempts.succeeded === 0) {
    const top = [...r.errors].sort((a, b) => b.count - a.count)[0];
    const cause = top === undefined ? '' : ` (most: ${top.code} at ${top.phase}, ${top.count})`;
    return `No device ever connected: all ${r.attempts.started} attempts failed or timed out${cause}.`;
  }
  const gone = r.outages.find((o) => o.side === 'observed' && o.targetAcceptedAgain === false);
  if (gone) {
    return `The target went away at ${formatUs(gone.atUs)} and never accepted a connect again: ${gone.dropped} devices lost, ${gone.recovered} back by the end (${gone.name}).`;
  }
  const last = r.timeline.buckets.filter((b) => b.t < Math.floor(r.scenario.durationUs / 1e6)).at(-1);
  const lostAll = last !== undefined && last.connected === 0 && r.storm.disconnects > 0 && r.attempts.succeeded > 0;
  if (r.scenario.observedOutages === null && lostAll) {
    return `Every device was lost and none was connected when teardown began (${r.storm.disconnects} sessions lost).`;
  }
  return null;
}

export function targetText(r: Results): string {
  const host = hostText(r);
  if (!r.run.embeddedTarget) return host === null ? r.run.target : `${r.run.target} (${host})`;
  const written = (r.scenario.embeddedTarget as { profile?: unknown } | null)?.profile;
  const knobs = r.run.embeddedTargetKnobs ?? `profile ${typeof written === 'string' ? written : 'default'}`;
  return `${r.run.target} (embedded target, ${knobs}${host === null ? '' : `; ${host}`})`;
}

/**
 * Whose machine the numbers describe: a target on herd's own machine shares its cores, and an
 * embedded target that ran its model late says so — then the latencies include the box's lag,
 * and neither the target nor herd is blamed for it.
 */
export function hostText(r: Results): string | null {
  if (!(r.run.sharesMachine ?? false)) return null;
  const cores = `shares this machine's ${r.environment.cpus} core${r.environment.cpus === 1 ? '' : 's'} with herd`;
  const lag = r.run.targetLag ?? null;
  const busy = lag?.busySeconds ?? 0;
  if (lag === null || (lag.overBoundTotal === 0 && busy === 0)) return cores;
  const how = [
    lag.overBoundTotal > 0
      ? `ran the target's model up to ${lag.maxMs} ms late (${lag.overBoundTotal} times over ${lag.boundMs} ms)`
      : '',
    busy > 0 ? `kept the target's event loop over 90% busy for ${busy} s` : '',
  ].filter((x) => x !== '');
  return `${cores}, which ${how.join(' and ')}: the target's answers were slowed by the machine, not by its model`;
}

export function runFacts(r: Results): RunFacts {
  const a = r.attempts;
  const shed = shedding(r);
  const lost = r.storm.disconnects;
  const peaks = timelinePeaks(r);
  const shedParts = [
    shed.connects > 0 ? `${shed.connects} connect attempts refused` : '',
    shed.sessions > 0 ? `${shed.sessions} sessions ended` : '',
  ].filter((x) => x !== '');
  return {
    success: successText(r),
    connectFailures: `connects failed ${a.failed} · timed out ${a.timedOut}`,
    errorsRate: `errors.rate ${percentOf(a.failed + a.timedOut, a.started, 2)} = (failed ${a.failed} + timed out ${a.timedOut}) / ${a.started} started`,
    sessionsLost:
      `sessions lost ${lost} of ${a.succeeded} established` +
      (a.succeeded === 0 ? '' : ` (${percentOf(lost, a.succeeded)})`),
    peaks: `peak ${peaks.succeededPerS} successes/s · ${peaks.attemptsPerS} attempts/s · ${peaks.handshaking} handshakes in flight`,
    shedding:
      shedParts.length === 0
        ? null
        : `the target shed load (MQTT 5 server busy / connection rate exceeded, HTTP 429/503${r.run.embeddedTarget ? ', CONNACK 3 from the embedded target’s admission control' : ''}): ${shedParts.join(', ')}`,
    outages: r.outages.map((o) => outageText(o, outagePeakAfterEnd(r, o))),
    target: targetText(r),
  };
}

/** The harness's verdict on itself, as the lines every format prints (empty when there is nothing to say). */
export function saturationLines(r: Results): { title: string; lines: string[] } | null {
  const h = r.health;
  if (!h.saturated && h.notCounted.length === 0) return null;
  const title = !h.saturated
    ? 'The harness was briefly past a limit (not sustained, not counted against the run):'
    : h.affectsVerdict
      ? r.run.allowSaturated
        ? 'The harness was saturated and could have decided the verdict (--allow-saturated: the exit code follows the thresholds):'
        : 'The harness was saturated and could have decided the verdict (exit 3):'
      : 'The harness was saturated, but no threshold or count depends on it (a warning, not a failure):';
  // Advice to give --allow-saturated is not advice when it was given.
  const advice = r.run.allowSaturated ? h.advice.filter((x) => !x.startsWith('--allow-saturated')) : h.advice;
  const lines = [
    ...h.reasons,
    ...h.notCounted,
    ...h.effects.map((e) => `effect: ${e}`),
    ...advice.map((x) => `to change: ${x}`),
  ];
  return { title, lines };
}

/** "Verdict: FAILED (exit 1)": the line every format leads with. */
export function verdictText(r: Results): string {
  return `Verdict: ${r.run.verdict === 'passed' ? 'PASSED' : 'FAILED'} (exit ${r.run.exitCode})`;
}

/** The thresholds that failed, one line each ("✗ connect.total: p(99) < 3s  observed 3.58s"). */
export function failedThresholdLines(r: Results): string[] {
  return r.thresholds.filter((t) => !t.passed).map((t) => `✗ ${t.metric}: ${t.expression}  observed ${t.observedText}`);
}

/**
 * Which connect path ran: "engine js", "engine native", or per cohort when they differ
 * ("engine native (cohort a) · js (cohort b)"); null for files written before it was recorded.
 */
export function engineText(r: Results): string | null {
  const e = r.run.engines ?? null;
  if (e === null) return null;
  const kinds = [...new Set(Object.values(e))];
  if (kinds.length === 0) return null;
  if (kinds.length === 1) return `engine ${kinds[0]}`;
  return `engine ${Object.entries(e)
    .map(([cohort, k]) => `${k} (cohort ${cohort})`)
    .join(' · ')}`;
}

/**
 * Where the attempts to each target given by host name went, how they ended there, and how often
 * the name was looked up: "localhost → 127.0.0.1 ×5,000 (2 lookups)", an address's failures as
 * "127.0.0.2 ×1,499 (12 failed)"; per name, joined by "; ". Null without such a target.
 */
export function namesText(r: Results): string | null {
  const names = r.run.names ?? [];
  if (names.length === 0) return null;
  return names
    .map((n) => {
      const to = Object.entries(n.addresses)
        .map(([addr, k]) => {
          const failed = k.failed > 0 ? ` (${k.failed.toLocaleString('en-US')} failed)` : '';
          return `${addr} ×${k.attempts.toLocaleString('en-US')}${failed}`;
        })
        .join(' · ');
      const failed = n.failedLookups > 0 ? `, ${n.failedLookups.toLocaleString('en-US')} failed` : '';
      const lookups = `${n.lookups.toLocaleString('en-US')} lookup${n.lookups === 1 ? '' : 's'}${failed}`;
      return `${n.host} → ${to === '' ? 'no address' : to} (${lookups})`;
    })
    .join('; ');
}

/**
 * The workers' warm-up, said so that nobody takes it for traffic the target saw: "8,192 handshakes
 * on herd's own loopback listeners (not the target) in 1.4s, before the origin"; that it was off
 * (--no-warm-up); null when no worker warmed up (or the file predates it).
 */
export function warmUpText(r: Results): string | null {
  if (r.run.warmUp === false)
    return "off (--no-warm-up): the storm started on code V8 had not optimised, so herd's own CPU per connection was higher in its first seconds";
  const ws = r.health.workers.flatMap((w) => (w.warmUp === null ? [] : [w.warmUp]));
  if (ws.length === 0) return null;
  const handshakes = ws.reduce((a, w) => a + w.handshakes, 0);
  const slowestS = Math.max(...ws.map((w) => w.elapsedMs)) / 1000;
  return (
    `${handshakes.toLocaleString('en-US')} handshakes on herd's own loopback listener` +
    `${ws.length === 1 ? '' : 's'} (not the target) in ${slowestS.toFixed(1)}s, before the origin`
  );
}

/**
 * Who lost the messages, the cloud's losses first (issue 24), and the message accounting identity:
 * published = delivered + lost by the cloud + never acknowledged + dropped by the device.
 */
export function deliveryFacts(d: DeliveryCounts): { headline: string; identity: string; balanced: boolean } {
  const buckets = d.delivered + d.lostByCloud + d.neverAcknowledged + d.droppedByDevice;
  return {
    headline:
      `lost by the cloud ${d.lostByCloud} · never acknowledged ${d.neverAcknowledged} · dropped by the device ${d.droppedByDevice}` +
      ` · delivered ${d.delivered} of ${d.published} published`,
    identity:
      `published ${d.published} ${buckets === d.published ? '=' : '≠'} delivered ${d.delivered} + lost by the cloud ${d.lostByCloud}` +
      ` + never acknowledged ${d.neverAcknowledged} + dropped by the device ${d.droppedByDevice}`,
    balanced: buckets === d.published,
  };
}
