/**
 * Everything `herd compare` takes from the results contract and the embedded target's options, in
 * one place: those modules are moving (src/results/, src/scenario/), and one file of re-exports
 * keeps that move a one-file change here.
 */
export { ERROR_ORIGINS } from '../report/results-types.js';
export type { ErrorOrigin, LatencySummary, Results, TimelineBucket } from '../report/results-types.js';
export { checkResults, readResults } from '../report/read.js';
export { parseTargetOptions, type ResolvedTargetOptions } from '../target/options.js';
