/**
 * Typed errors for things a user can fix (bad input) or that stop a run from being carried out.
 * Wire failures during a run are never thrown: they become counted data (see protocols/classify.ts).
 * Every code is documented in docs/errors.md.
 */
export const EXIT = {
  ok: 0,
  thresholdFailed: 1,
  badInput: 2,
  runFailed: 3,
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export type HerdErrorCode =
  | 'E_SCENARIO_FILE' // cannot read the scenario file
  | 'E_SCENARIO_PARSE' // not valid YAML/JSON
  | 'E_SCENARIO_INVALID' // fails the schema (details list every problem)
  | 'E_FLAG' // a command-line flag has a bad value
  | 'E_TARGET_URL' // unsupported scheme or malformed target URL
  | 'E_TARGET_UNREACHABLE' // preflight could not reach the target
  | 'E_TARGET_START' // the embedded target failed to start
  | 'E_OUT_DIR' // output folder cannot be created or written
  | 'E_OUT_WRITE' // writing an output file failed mid-way (disk full, I/O error): nothing partial is left
  | 'E_RESULTS_FILE' // a results file cannot be read or is not herd's
  | 'E_RESULTS_VERSION' // a results file of an unsupported major version
  | 'E_PREFLIGHT' // the plan cannot fit this machine's limits
  | 'E_WORKER' // a worker process failed in a way that stops the run
  | 'E_COMPARE_SCENARIO' // compare was given runs of different scenarios
  | 'E_EXPORT_GAPS' // export --strict: the scenario has features the other engine cannot express
  | 'E_COMMANDS_NOT_ALLOWED' // the scenario runs commands (declaredOutages) and --allow-commands was not given
  | 'E_INTERNAL';

const EXIT_FOR: Record<HerdErrorCode, ExitCode> = {
  E_SCENARIO_FILE: EXIT.badInput,
  E_SCENARIO_PARSE: EXIT.badInput,
  E_SCENARIO_INVALID: EXIT.badInput,
  E_FLAG: EXIT.badInput,
  E_TARGET_URL: EXIT.badInput,
  E_TARGET_UNREACHABLE: EXIT.runFailed,
  E_TARGET_START: EXIT.runFailed,
  E_OUT_DIR: EXIT.badInput,
  E_OUT_WRITE: EXIT.runFailed,
  E_RESULTS_FILE: EXIT.badInput,
  E_RESULTS_VERSION: EXIT.badInput,
  E_PREFLIGHT: EXIT.runFailed,
  E_WORKER: EXIT.runFailed,
  E_COMPARE_SCENARIO: EXIT.badInput,
  E_EXPORT_GAPS: EXIT.badInput,
  E_COMMANDS_NOT_ALLOWED: EXIT.badInput,
  E_INTERNAL: EXIT.runFailed,
};

export class HerdError extends Error {
  readonly code: HerdErrorCode;
  /** Every individual problem, e.g. one line per failing scenario field. */
  readonly details: readonly string[];

  constructor(code: HerdErrorCode, message: string, details: readonly string[] = []) {
    super(message);
    this.name = 'HerdError';
    this.code = code;
    this.details = details;
  }

  get exitCode(): ExitCode {
    return EXIT_FOR[this.code];
  }
}
