/**
 * Everything `herd compare` takes from the results contract and the embedded target's options, in
 * one place. The target's option resolution is pure (profiles and knobs, no sockets): compare uses
 * it to say which knobs two runs' targets differed in.
 */
export { ERROR_ORIGINS } from '../results/types.js';
export type { ErrorOrigin, LatencySummary, Results, TimelineBucket } from '../results/types.js';
export { checkResults, readResults } from '../results/read.js';
export { parseTargetOptions, type ResolvedTargetOptions } from '../target/options.js';
