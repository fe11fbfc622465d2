/**
 * The one place the breakpoint feature imports modules that are moving to other layers
 * (src/run/, src/results/): fix the paths here at merge, nowhere else.
 */
export { executeRun, type RunRequest, type RunReport } from '../engine/execute.js';
export type { Results, ThresholdResult, TimelineBucket, ErrorCount } from '../report/results-types.js';
