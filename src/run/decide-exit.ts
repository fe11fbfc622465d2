/**
 * The one exit decision of a run, a merge of shards and a breakpoint search (pure), in order of
 * precedence: how the run was aborted, then whether it can be trusted at all (accounting, dead
 * workers, a harness that could have decided the verdict), then the thresholds.
 */
import { EXIT, type ExitCode } from '../errors.js';
import type { AbortKind, Verdict } from '../results/types.js';

export interface ExitFacts {
  /** Why the run was aborted, or null when it completed. */
  aborted: AbortKind | null;
  /** The accounting identity held. */
  balanced: boolean;
  /** A worker process died (the run carried on without it). */
  workerFailed: boolean;
  /** What the harness added could have changed the verdict, and --allow-saturated was not given. */
  harnessDecided: boolean;
  thresholdsPassed: boolean;
}

export interface ExitDecision {
  exitCode: ExitCode;
  verdict: Verdict;
}

export function decideExit(f: ExitFacts): ExitDecision {
  const exitCode = code(f);
  return { exitCode, verdict: exitCode === EXIT.ok ? 'passed' : 'failed' };
}

function code(f: ExitFacts): ExitCode {
  // A dead worker makes the run unusable however it ended; only a clean interruption is 130.
  if (f.aborted === 'worker-failed') return EXIT.runFailed;
  if (f.aborted === 'interrupted') return EXIT.interrupted;
  if (!f.balanced || f.workerFailed || f.harnessDecided) return EXIT.runFailed;
  return f.thresholdsPassed ? EXIT.ok : EXIT.thresholdFailed;
}
