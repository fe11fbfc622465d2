/**
 * `declaredOutages`: outages the scenario causes through the user's own tools. At `at` herd runs
 * the `break` command (e.g. `docker kill broker`), at `at + duration` the `restore` command; the
 * window between is measured like an outage of the embedded target. Commands run only with
 * `herd run --allow-commands` (docs/scenario-reference.md, "Declared outages").
 */
import { z } from 'zod';
import { formatUs, mustParseDurationUs, parseDurationUs } from '../util/duration.js';
import { duration } from './schema-fields.js';

export const DECLARED_DEFAULTS = { timeout: '30s' } as const;
/** Bounds of a command's timeout: long enough for `docker start`, short enough that a hung tool ends. */
export const COMMAND_TIMEOUT_BOUNDS = { min: '100ms', max: '10m' } as const;
/** A command line longer than this is a script: keep it in a file and run the file. */
export const MAX_COMMAND_CHARS = 4096;
/** Declared outages per scenario. */
export const MAX_DECLARED_OUTAGES = 100;

const commandText = z
  .string({ error: 'expected a command line, e.g. "docker kill broker"' })
  .min(1, { error: 'expected a non-empty command line' })
  .max(MAX_COMMAND_CHARS, { error: `expected at most ${MAX_COMMAND_CHARS} characters (run a script file instead)` })
  .refine((v) => v.trim() !== '', { error: 'expected a command line, not blanks' })
  .refine((v) => !v.includes('\u0000'), { error: 'expected no NUL character' });

const minUs = mustParseDurationUs(COMMAND_TIMEOUT_BOUNDS.min);
const maxUs = mustParseDurationUs(COMMAND_TIMEOUT_BOUNDS.max);

const declaredOutage = z.strictObject({
  name: z
    .string({ error: 'expected text' })
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, {
      error: 'expected a name of letters, digits, ".", "_" or "-" (at most 64), e.g. "broker-kill"',
    })
    .optional()
    .meta({ description: 'Name in the reports; default declared-1, declared-2… in list order.' }),
  at: duration.meta({ description: 'When herd runs the break command, from the run origin.' }),
  duration: duration.meta({ description: 'How long after `at` herd runs the restore command (the outage window).' }),
  break: commandText.meta({ description: 'Command line that breaks the target, run by /bin/sh -c.' }),
  restore: commandText.optional().meta({
    description: 'Command line that restores it, run at `at + duration` (absent: the target comes back by itself).',
  }),
  timeout: duration
    .refine((v) => (parseDurationUs(v) ?? minUs) >= minUs, { error: `expected at least ${COMMAND_TIMEOUT_BOUNDS.min}` })
    .refine((v) => (parseDurationUs(v) ?? maxUs) <= maxUs, { error: `expected at most ${COMMAND_TIMEOUT_BOUNDS.max}` })
    .default(DECLARED_DEFAULTS.timeout)
    .meta({ description: 'How long each command may run before herd ends its process group.' }),
});

export const declaredOutagesSchema = z
  .array(declaredOutage, { error: 'expected a list of declared outages' })
  .max(MAX_DECLARED_OUTAGES, { error: `expected at most ${MAX_DECLARED_OUTAGES} declared outages` })
  .optional()
  .meta({
    description:
      'Outages the scenario causes with your own commands (break at `at`, restore at `at + duration`), measured ' +
      'like target outages. Commands run only with `herd run --allow-commands`.',
  });

export type DeclaredOutageInput = z.output<typeof declaredOutage>;

/** The name a declared outage has in the reports. */
export function declaredName(o: DeclaredOutageInput, index: number): string {
  return o.name ?? `declared-${index + 1}`;
}

/** Problems of the list against the run: each restore before teardown, names unique. */
export function declaredProblems(list: readonly DeclaredOutageInput[], runEndUs: number | null): string[] {
  const problems: string[] = [];
  const names = new Set<string>();
  list.forEach((o, i) => {
    const name = declaredName(o, i);
    if (names.has(name)) problems.push(`declaredOutages[${i}].name: "${name}" is used twice`);
    names.add(name);
    if (runEndUs === null) return;
    const endUs = mustParseDurationUs(o.at) + mustParseDurationUs(o.duration);
    if (mustParseDurationUs(o.at) >= runEndUs)
      problems.push(`declaredOutages[${i}].at: ${o.at} is not before the run ends (at ${formatUs(runEndUs)})`);
    else if (endUs >= runEndUs)
      problems.push(
        `declaredOutages[${i}].duration: the restore at ${formatUs(endUs)} is not before the run ends (at ${formatUs(runEndUs)}); lengthen hold or duration`,
      );
  });
  return problems;
}
