/**
 * The step search for herd's sustained rate (open model): offer a rate, see whether the run
 * passed, go up by STEP_UP until one fails (or down by STEP_DOWN until one passes), then bisect
 * between the best pass and the lowest fail. Pure: the caller runs the steps.
 */

export const STEP_UP = 1.25;
export const STEP_DOWN = 0.7;
/** Stop bisecting when the bracket is narrower than this fraction of the best pass. */
export const RESOLUTION = 0.05;
/** A step must complete at least this share of its offered rate (see passes()). */
export const MIN_COMPLETED_SHARE = 0.9;
export const MAX_ERROR_RATE = 0.01;
/** A TCP connect this slow waited for the kernel's first SYN retransmit (after 1 s, then 3 s, 7 s). */
export const SYN_RETRY_US = 900_000;

/**
 * A step passes when fewer than 1% of planned attempts failed, timed out, were dropped or were
 * still in flight; the harness was not saturated while connecting (herd.js
 * saturatedBeforeTeardown: a flag raised only by herd's own teardown block is reported, not
 * counted); accounting balanced; and the
 * completed rate reached 90% of the offered one — so a target whose accept queue overflowed
 * (SYNs retried after 1 s) or a harness that fell behind its plan does not pass by being slow
 * without erroring.
 * @returns {{ pass: boolean, why: string[] }}
 */
export function passes(r) {
  const why = [];
  if (r.errorRate >= MAX_ERROR_RATE) why.push(`errors ${(r.errorRate * 100).toFixed(2)}% ≥ 1%`);
  if (r.saturatedBeforeTeardown) why.push(`harness saturated: ${r.saturationReasons.join('; ')}`);
  if (!r.accountingBalanced) why.push('accounting did not balance');
  if (r.completedPerS < MIN_COMPLETED_SHARE * r.offeredPerS) {
    why.push(`completed ${Math.round(r.completedPerS)}/s < 90% of offered (p99 ${fmtMs(r.connectTotalUs?.p99)})`);
    if ((r.tcpConnectUs?.p99 ?? 0) >= SYN_RETRY_US) {
      why.push(
        `tcpConnect p99 ${fmtMs(r.tcpConnectUs.p99)}: SYNs were retried, the target's listen queue overflowed (a target limit)`,
      );
    }
  }
  const pass = why.length === 0;
  if (pass && r.saturated) why.push(`herd flagged saturation only during teardown: ${r.saturationReasons.join('; ')}`);
  return { pass, why };
}

function fmtMs(us) {
  return us === undefined || us === null ? '?' : `${(us / 1000).toFixed(1)} ms`;
}

/** Rates are offered in whole hundreds so runs are easy to repeat by hand. */
export function roundRate(r) {
  return Math.max(100, Math.round(r / 100) * 100);
}

export class StepSearch {
  constructor(startRate) {
    this.next = roundRate(startRate);
    /** @type {number | null} */
    this.bestPass = null;
    /** @type {number | null} */
    this.lowestFail = null;
  }

  /** Records a step's outcome; returns the next rate to offer, or null when the search is done. */
  record(rate, pass) {
    if (pass) this.bestPass = Math.max(this.bestPass ?? 0, rate);
    else this.lowestFail = Math.min(this.lowestFail ?? Infinity, rate);
    let next;
    // Up or down by at least one rounding unit, so small rates still move.
    if (this.lowestFail === null) next = Math.max(rate * STEP_UP, rate + 100);
    else if (this.bestPass === null) next = Math.min(rate * STEP_DOWN, rate - 100);
    else {
      if ((this.lowestFail - this.bestPass) / this.bestPass < RESOLUTION) return null;
      next = (this.bestPass + this.lowestFail) / 2;
    }
    next = roundRate(next);
    if (this.bestPass === null && rate <= 100) return null; // nothing lower to offer
    if (next === rate || next === this.bestPass || next === this.lowestFail) return null;
    this.next = next;
    return next;
  }
}
