/**
 * The names the option declarations and help text list, without loading the modules that define
 * them (zod schemas, report and compare rendering): every `herd` invocation builds the help of every
 * command, and those modules load only when their command runs. test/unit/cli-names.test.ts checks
 * that each list equals its source.
 */
/** scenario/target-options.ts TARGET_PROFILE_NAMES. */
export const TARGET_PROFILE_NAMES = ['default', 'fragile', 'protected', 'aws-like'] as const;
/** report/render.ts REPORT_FORMATS. */
export const REPORT_FORMATS = ['json', 'md', 'csv', 'junit', 'html', 'summary'] as const;
/** compare/render.ts COMPARE_FORMATS. */
export const COMPARE_FORMATS = ['text', 'md', 'json', 'html'] as const;
