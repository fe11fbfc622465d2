/** results.json: what the commands of a declared outage did (1.4). The command line is never recorded. */
import { z } from 'zod';
import { COMMAND_OUTCOMES, type CommandOutcome } from './resolved-scenario.js';
import { orList } from '../util/suggest.js';

const intOrNull = (d: string) => z.number().int().min(0).nullable().meta({ description: d });

export const commandRecord = z
  .object({
    role: z.enum(['break', 'restore']).meta({ description: 'Which of the outage’s two commands.' }),
    outcome: z.enum(COMMAND_OUTCOMES).meta({
      description:
        `${orList(COMMAND_OUTCOMES)}: ok = exit code 0; failed = another exit code or a signal; timeout = herd ` +
        'ended its process group at the timeout; interrupted = ended by Ctrl-C; not-run = the run stopped first; ' +
        'spawn-error = it could not start; other-shard = shard 1 runs the commands of a sharded run.',
    }),
    plannedUs: z.number().int().min(0).meta({ description: 'Planned start, µs from the run origin.' }),
    startedUs: intOrNull('Real start, µs from the run origin (null = never started).'),
    durationUs: intOrNull('How long it ran, µs (null = never started).'),
    exitCode: intOrNull('Its exit code (null = it did not exit by itself).'),
    signal: z.string().nullable().meta({ description: 'The signal that ended it, if one did.' }),
    outputTail: z.string().meta({
      description:
        'The last 4 KiB of its stdout and stderr as they came, with URL passwords, secret-named environment ' +
        'values and the words of its command line masked as ***.',
    }),
    outputTruncated: z.boolean().meta({ description: 'More output came than the tail holds.' }),
    note: z.string().nullable().meta({ description: 'Why it could not start or was ended, in words.' }),
  })
  .meta({ description: 'One command of a declared outage (the command line itself is never recorded).' });

/** One command of a declared outage. The command line itself is never recorded (it can hold a password). */
export interface CommandRecord {
  role: 'break' | 'restore';
  outcome: CommandOutcome;
  /** Planned start, µs from the run origin. */
  plannedUs: number;
  /** Real start, µs from the run origin; null when it never started. */
  startedUs: number | null;
  durationUs: number | null;
  exitCode: number | null;
  signal: string | null;
  /** The last bytes of its stdout and stderr as they came (at most 4 KiB, masked: see the scenario reference). */
  outputTail: string;
  /** True when more output came than the tail holds. */
  outputTruncated: boolean;
  /** Why it could not start or was ended, in words; null when it ran to its exit. */
  note: string | null;
}
