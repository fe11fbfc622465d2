/**
 * The one place the breakpoint feature imports modules that other engineers are moving
 * (src/run/, src/results/, the threshold parser): fix the paths here at merge, nowhere else.
 * On main at the time of writing: ../run/execute.js, ../results/types.js,
 * ../scenario/threshold-parse.js, ../util/target-url.js.
 */
export { executeRun, type RunRequest, type RunReport } from '../execute.js';
export type { Results, ThresholdResult, TimelineBucket, ErrorCount } from '../../results/types.js';
export { parseThresholds, type Threshold } from '../../scenario/threshold-parse.js';
export { parseTargetUrl } from '../../util/target-url.js';
