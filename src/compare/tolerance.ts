/**
 * Tolerances for `herd compare` (pure): how much worse a metric may get before it counts as a
 * regression. Relative ("10%") or absolute in the metric's unit ("5ms" for latency, "3" for a
 * count, "0.5pp" percentage points for a rate).
 */
import { HerdError } from '../errors.js';
import type { CompareUnit } from './metrics.js';

export type Tolerance =
  | { kind: 'relative'; fraction: number; text: string }
  | { kind: 'absolute'; unit: CompareUnit; amount: number; text: string };

const US_PER: Record<string, number> = { us: 1, µs: 1, ms: 1e3, s: 1e6 };
const HINT = 'expected e.g. 10% (relative), 5ms (latency), 3 (a count) or 0.5pp (percentage points of a rate)';

export function parseTolerance(text: string, where: string): Tolerance {
  const t = text.trim();
  let m = /^(\d+(?:\.\d+)?)%$/.exec(t);
  if (m) return { kind: 'relative', fraction: Number(m[1]) / 100, text: t };
  m = /^(\d+(?:\.\d+)?)(us|µs|ms|s)$/.exec(t);
  if (m) return { kind: 'absolute', unit: 'us', amount: Number(m[1]) * (US_PER[m[2] as string] ?? NaN), text: t };
  m = /^(\d+(?:\.\d+)?)pp$/.exec(t);
  if (m) return { kind: 'absolute', unit: 'ratio', amount: Number(m[1]) / 100, text: t };
  m = /^(\d+)$/.exec(t);
  if (m) return { kind: 'absolute', unit: 'count', amount: Number(m[1]), text: t };
  throw new HerdError('E_FLAG', `${where}: cannot read tolerance ${JSON.stringify(text)}; ${HINT}`);
}

/** Parses `--tolerance key=value` entries; keys are checked against the runs' metrics later. */
export function parseToleranceOverrides(entries: readonly string[]): Map<string, Tolerance> {
  const out = new Map<string, Tolerance>();
  for (const e of entries) {
    const eq = e.indexOf('=');
    if (eq <= 0 || eq === e.length - 1) {
      throw new HerdError(
        'E_FLAG',
        `--tolerance: expected metric=tolerance like connect.total.p99=20%, got ${JSON.stringify(e)}`,
      );
    }
    const key = e.slice(0, eq).trim();
    out.set(key, parseTolerance(e.slice(eq + 1), `--tolerance ${key}`));
  }
  return out;
}

/** The tolerance for a metric: an exact override, then its group's ("connect.total=20%"), then the default. */
export function toleranceFor(
  key: string,
  group: string,
  overrides: ReadonlyMap<string, Tolerance>,
  fallback: Tolerance,
): Tolerance {
  return overrides.get(key) ?? overrides.get(group) ?? fallback;
}

/** `--confidence 99%` (or 0.99): the two-sided confidence of the significance tests, from 50% to 99.99%. */
export function parseConfidence(text: string, where: string): number {
  const t = text.trim();
  const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(t);
  const v = m ? Number(m[1]) / (m[2] === '%' ? 100 : 1) : NaN;
  if (!(v >= 0.5 && v <= 0.9999)) {
    throw new HerdError(
      'E_FLAG',
      `${where}: expected a confidence from 50% to 99.99% like 99% (or 0.99), got ${JSON.stringify(text)}`,
    );
  }
  return v;
}
