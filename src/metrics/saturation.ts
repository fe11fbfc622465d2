/**
 * Decides whether the harness, not the target, was the bottleneck, in two
 * steps, both pure:
 * - evidence: a worker past a limit for several seconds in a row (or for a share of the run) —
 *   one slow second on shared cores is noise, not evidence (a worker's event loop exceeds 200 ms
 *   for a second now and then when other work shares the cores);
 * - effect: whether what the harness added (schedule lag, event-loop delay, its own local errors,
 *   attempts it could not start) could have changed a threshold's outcome or the accounting.
 * Only evidence with an effect fails the run (exit 3); evidence without one is a warning with figures.
 */
import type { HealthSample } from './health-sample.js';
import { LOCAL_ADVICE } from './local-advice.js';
import type { ErrorCount } from '../results/types.js';
import { formatUs } from '../util/duration.js';

export interface SaturationLimits {
  /** Event-loop delay p99 within one second. */
  loopDelayP99Us: number;
  /** Event-loop utilisation within one second. */
  loopUtilisation: number;
  /** Worst delay between an attempt's intended time and its socket opening, within one second. */
  scheduleLagUs: number;
  /** Seconds in a row past a limit that make evidence. */
  sustainedSeconds: number;
  /** …or this share of the judged seconds past a limit (at least `sustainedSeconds` of them). */
  shareOfRun: number;
}

export const DEFAULT_LIMITS: SaturationLimits = {
  loopDelayP99Us: 200_000,
  loopUtilisation: 0.95,
  scheduleLagUs: 1_000_000,
  sustainedSeconds: 3,
  shareOfRun: 0.2,
};

export interface HealthPoint {
  worker: number;
  /** Second of the run the sample closes. */
  t: number;
  sample: HealthSample;
}

/** Seconds judged: from `fromS` (after the startup second) up to, not including, `toS` (teardown). */
export interface JudgedWindow {
  fromS: number;
  toS: number;
}

export interface SaturationEvidence {
  /** Some worker was past a limit long enough to count. */
  sustained: boolean;
  /** The sustained evidence, with figures. */
  reasons: string[];
  /** Excursions too short to count, with figures (shown, never decisive). */
  transient: string[];
  /** Worst event-loop delay p99 and schedule lag among the judged seconds: what the harness may have added. */
  loopDelayUs: number;
  scheduleLagUs: number;
}

type Excess = 'delay' | 'busy' | 'lag';

function excesses(s: HealthSample, l: SaturationLimits): Excess[] {
  const out: Excess[] = [];
  if (s.loopDelayP99Us > l.loopDelayP99Us) out.push('delay');
  if (s.loopUtilisation >= l.loopUtilisation) out.push('busy');
  if (s.scheduleLagMaxUs > l.scheduleLagUs) out.push('lag');
  return out;
}

function describeExcess(points: readonly HealthPoint[], l: SaturationLimits): string {
  const parts: string[] = [];
  const worst = (f: (s: HealthSample) => number): number => Math.max(...points.map((p) => f(p.sample)));
  const kinds = new Set(points.flatMap((p) => excesses(p.sample, l)));
  if (kinds.has('delay'))
    parts.push(
      `event-loop delay p99 up to ${formatUs(worst((s) => s.loopDelayP99Us))} (limit ${formatUs(l.loopDelayP99Us)})`,
    );
  if (kinds.has('busy')) parts.push(`event loop ≥${Math.round(l.loopUtilisation * 100)}% busy`);
  if (kinds.has('lag'))
    parts.push(
      `attempts started up to ${formatUs(worst((s) => s.scheduleLagMaxUs))} late (limit ${formatUs(l.scheduleLagUs)})`,
    );
  return parts.join(', ');
}

function span(points: readonly HealthPoint[]): string {
  const first = points[0]?.t ?? 0;
  const last = points.at(-1)?.t ?? first;
  return first === last ? `at ${first}s` : `${first}s–${last}s`;
}

/** Finds sustained evidence per worker among the judged seconds (startup second and teardown excluded). */
export function findEvidence(
  samples: readonly HealthPoint[],
  window: JudgedWindow,
  limits: SaturationLimits = DEFAULT_LIMITS,
): SaturationEvidence {
  const judged = samples.filter((s) => s.t >= window.fromS && s.t < window.toS);
  const seconds = Math.max(1, window.toS - window.fromS);
  const reasons: string[] = [];
  const transient: string[] = [];
  const workers = [...new Set(judged.map((s) => s.worker))].sort((a, b) => a - b);
  for (const worker of workers) {
    const list = judged.filter((s) => s.worker === worker).sort((a, b) => a.t - b.t);
    const over = list.filter((s) => excesses(s.sample, limits).length > 0);
    if (over.length === 0) continue;
    let longest: HealthPoint[] = [];
    let run: HealthPoint[] = [];
    for (const s of over) {
      const prev = run.at(-1);
      run = prev !== undefined && s.t === prev.t + 1 ? [...run, s] : [s];
      if (run.length > longest.length) longest = run;
    }
    const inARow = longest.length >= limits.sustainedSeconds;
    const share = over.length / seconds;
    const byShare = over.length >= limits.sustainedSeconds && share >= limits.shareOfRun;
    if (inARow) {
      reasons.push(
        `worker ${worker}: ${longest.length}s in a row (${span(longest)}) past a limit: ${describeExcess(longest, limits)}`,
      );
    } else if (byShare) {
      reasons.push(
        `worker ${worker}: ${over.length} of ${seconds} judged seconds (${Math.round(share * 100)}%) past a limit: ${describeExcess(over, limits)}`,
      );
    } else {
      transient.push(
        `worker ${worker}: ${over.length}s past a limit (${over.map((s) => `${s.t}s`).join(', ')}; not sustained, not counted): ${describeExcess(over, limits)}`,
      );
    }
  }
  const worst = (f: (s: HealthSample) => number): number => judged.reduce((m, s) => Math.max(m, f(s.sample)), 0);
  return {
    sustained: reasons.length > 0,
    reasons,
    transient,
    loopDelayUs: worst((s) => s.loopDelayP99Us),
    scheduleLagUs: worst((s) => s.scheduleLagMaxUs),
  };
}

/** A failed threshold that would have passed without what the harness added. */
export interface ThresholdEffect {
  metric: string;
  expression: string;
  observedText: string;
  /** What the value would be with the harness's share taken out (a clause, with figures). */
  withoutHarnessText: string;
}

export interface SaturationInput {
  evidence: SaturationEvidence;
  errors: readonly ErrorCount[];
  /** Attempts the harness could not start within their connect timeout. */
  droppedAttempts: number;
  flipped: readonly ThresholdEffect[];
  /** For advice. */
  workers: number;
  cores: number;
  maxHandshakesPerWorker: number;
}

export interface SaturationJudgement {
  /** Sustained evidence, local errors or attempts the harness could not start. */
  saturated: boolean;
  /** The harness could have changed a threshold's outcome or the accounting: exit 3 unless allowed. */
  affectsVerdict: boolean;
  reasons: string[];
  /** What the harness did (or could have done) to the numbers. */
  effects: string[];
  /** What to change. */
  advice: string[];
}

export function judgeSaturation(i: SaturationInput): SaturationJudgement {
  const reasons = [...i.evidence.reasons];
  const effects: string[] = [];
  const local = i.errors.filter((e) => e.origin === 'local');
  for (const e of local) {
    reasons.push(`${e.count}× ${e.code} in the harness: ${LOCAL_ADVICE[e.code] ?? 'a local resource ran out'}`);
  }
  const localCount = local.reduce((a, e) => a + e.count, 0);
  if (localCount > 0)
    effects.push(
      `the accounting counts ${localCount} failure${localCount === 1 ? '' : 's'} that ${localCount === 1 ? 'was' : 'were'} the harness’s own (origin local)`,
    );
  if (i.droppedAttempts > 0) {
    const one = i.droppedAttempts === 1;
    effects.push(
      `${i.droppedAttempts} attempt${one ? '' : 's'} never started: the harness reached ${one ? 'it only after its' : 'them only after their'} connect timeout`,
    );
  }
  if (i.evidence.sustained) {
    for (const f of i.flipped) {
      effects.push(
        `threshold ${f.metric} ${f.expression} failed (observed ${f.observedText}) but could pass: ${f.withoutHarnessText}`,
      );
    }
    if (i.flipped.length === 0) {
      effects.push(
        `no threshold's outcome depends on it: every threshold keeps its outcome with the harness's delay taken out ` +
          `(event-loop delay p99 up to ${formatUs(i.evidence.loopDelayUs)}, schedule lag up to ${formatUs(i.evidence.scheduleLagUs)})`,
      );
    }
  }
  const affectsVerdict = localCount > 0 || i.droppedAttempts > 0 || (i.evidence.sustained && i.flipped.length > 0);
  const saturated = i.evidence.sustained || localCount > 0 || i.droppedAttempts > 0;
  return {
    saturated,
    affectsVerdict,
    reasons,
    effects,
    advice: saturated || i.evidence.transient.length > 0 ? saturationAdvice(i) : [],
  };
}

/** What to change so the harness stops deciding the verdict. */
export function saturationAdvice(i: Pick<SaturationInput, 'workers' | 'cores' | 'maxHandshakesPerWorker'>): string[] {
  const out: string[] = [];
  if (i.workers > i.cores)
    out.push(
      `${i.workers} workers share ${i.cores} cores: use --workers ${i.cores} (raise \`ulimit -n\` if the file limit forced more)`,
    );
  else if (i.workers < i.cores) out.push(`--workers ${i.cores} spreads the devices over all ${i.cores} cores`);
  out.push(
    i.maxHandshakesPerWorker > 0
      ? `a lower --max-handshakes (now ${i.maxHandshakesPerWorker} per worker) bounds the harness's work per second`
      : '--max-handshakes N caps handshakes in flight per worker (the run is then no longer a pure open model)',
  );
  out.push('run on a quieter machine or CI runner: other processes on these cores delay the harness');
  out.push('--allow-saturated exits by the thresholds alone (results.json records that it was given)');
  return out;
}
