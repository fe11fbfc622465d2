/**
 * Reconnect policies of device firmware (pure). `attempt` counts the retries since the device was
 * last connected: 0 for the first retry after a drop or a failed attempt, then 1, 2, … Jitter follows
 * the AWS "Exponential Backoff and Jitter" definitions, plus Azure's proportional ±share. Returns null when the
 * device gives up.
 */
import type { ResolvedReconnect } from '../results/resolved-scenario.js';

export function reconnectDelayUs(
  p: ResolvedReconnect,
  attempt: number,
  previousDelayUs: number,
  random: () => number,
): number | null {
  if (p.policy === 'none') return null;
  if (p.maxAttempts !== null && attempt >= p.maxAttempts) return null;
  let base: number;
  let floor: number;
  let cap: number;
  switch (p.policy) {
    case 'fixed':
      base = p.delayUs;
      floor = p.delayUs;
      cap = p.delayUs;
      break;
    case 'linear':
      base = Math.min(p.maxUs, p.initialUs + attempt * p.stepUs);
      floor = p.initialUs;
      cap = p.maxUs;
      break;
    case 'exponential':
      base = Math.min(p.maxUs, p.initialUs * p.multiplier ** Math.min(attempt, 64));
      floor = p.initialUs;
      cap = p.maxUs;
      break;
  }
  switch (p.jitter) {
    case 'none':
      return Math.round(base);
    case 'full':
      return Math.round(random() * base);
    case 'equal':
      return Math.round(base / 2 + random() * (base / 2));
    case 'decorrelated': {
      const prev = previousDelayUs > 0 ? previousDelayUs : floor;
      return Math.round(Math.min(cap, floor + random() * Math.max(0, prev * 3 - floor)));
    }
    case 'proportional': {
      // Azure's SDKs: the computed delay, nudged by at most ±share (95–105 % by default).
      const share = p.jitterShare ?? DEFAULT_JITTER_SHARE;
      return Math.round(base * (1 - share + random() * 2 * share));
    }
  }
}

export const DEFAULT_JITTER_SHARE = 0.05;

/**
 * Whether a device that was connected for `connectedForUs` starts its backoff over. Without
 * `resetAfterUs` every connect does (herd's historical rule); with it — the AWS SDKs' 30 s — a
 * device that keeps being dropped soon after connecting keeps backing off further.
 */
export function restartsBackoff(p: ResolvedReconnect, connectedForUs: number): boolean {
  if (p.policy === 'none' || p.resetAfterUs === undefined) return true;
  return connectedForUs >= p.resetAfterUs;
}
