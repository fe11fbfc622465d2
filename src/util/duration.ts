/** Durations in scenarios are strings with a unit: "250ms", "30s", "2m", "1h", "1.5s". */
export const DURATION_RE = /^(\d+(?:\.\d+)?)(us|ms|s|m|h)$/;
export const DURATION_HINT = 'expected a duration like "30s" (units: us, ms, s, m, h)';

const US_PER: Record<string, number> = { us: 1, ms: 1_000, s: 1_000_000, m: 60_000_000, h: 3_600_000_000 };

/** The longest delay Node's timers hold: 2^31 − 1 ms (≈ 24.8 days); a longer one fires after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Longest duration accepted anywhere (every field and flag, through this one parser): 24 days, so
 * any timer herd arms for it — and a run's end plus its teardown — fits MAX_TIMER_MS.
 */
export const MAX_DURATION_US = 24 * 24 * 3_600_000_000;
export const DURATION_TOO_LONG =
  "expected a duration of at most 24 days (576h): Node's timers hold at most 2^31 − 1 ms";

/** What is wrong with a duration text, or null when it parses within the cap. */
export function durationProblem(text: string): string | null {
  if (!DURATION_RE.test(text.trim())) return DURATION_HINT;
  return parseDurationUs(text) === undefined ? DURATION_TOO_LONG : null;
}

/** Parses a duration string to integer microseconds; undefined when malformed or over the cap. */
export function parseDurationUs(text: string): number | undefined {
  const m = DURATION_RE.exec(text.trim());
  if (!m) return undefined;
  const unit = US_PER[m[2] as string];
  if (unit === undefined) return undefined;
  const us = Math.round(Number(m[1]) * unit);
  return Number.isSafeInteger(us) && us <= MAX_DURATION_US ? us : undefined;
}

export function mustParseDurationUs(text: string): number {
  const us = parseDurationUs(text);
  if (us === undefined) throw new Error(`internal: unvalidated duration ${JSON.stringify(text)}`);
  return us;
}

/** Human formatting of microseconds, picking a unit that keeps 3 significant digits. */
export function formatUs(us: number): string {
  if (!Number.isFinite(us)) return String(us);
  const abs = Math.abs(us);
  if (abs < 1_000) return `${Math.round(us)}µs`;
  if (abs < 1_000_000) return `${trim(us / 1_000)}ms`;
  if (abs < 60_000_000) return `${trim(us / 1_000_000)}s`;
  if (abs < 3_600_000_000) return `${trim(us / 60_000_000)}m`;
  return `${trim(us / 3_600_000_000)}h`;
}

function trim(n: number): string {
  const fixed = n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
  return fixed.replace(/\.0+$/, '').replace(/(\.\d*?)0+$/, '$1');
}

/**
 * The keepalive in whole seconds: what CONNECT carries and what the engine's wheel times, from one
 * function so the two never disagree. Validation admits whole seconds only (a fraction is exit 2),
 * so the rounding here never changes a value a scenario gave.
 */
export function keepaliveSeconds(keepaliveUs: number): number {
  return keepaliveUs <= 0 ? 0 : Math.round(keepaliveUs / 1_000_000);
}
