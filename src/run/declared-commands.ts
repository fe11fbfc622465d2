/**
 * The commands of declared outages, run by the coordinator's process once per run: each outage's
 * break command at its start and its restore command at its end, on the run's clock. What each did
 * becomes a CommandRecord (results.json); a failure is said on stderr as it happens. In a sharded
 * run only shard 1 runs them (the others measure the same windows and record "other-shard").
 */
import type { DeclaredOutage } from '../results/resolved-scenario.js';
import type { CommandOutcome } from '../results/resolved-scenario.js';
import type { CommandRecord } from '../results/types.js';
import { formatUs } from '../util/duration.js';
import { monotonicNowNs } from '../util/clock.js';
import { startCommand, type CommandExit, type RunningCommand } from './command-process.js';

interface Slot {
  outage: DeclaredOutage;
  role: 'break' | 'restore';
  line: string;
  plannedUs: number;
  timer: NodeJS.Timeout | null;
  running: RunningCommand | null;
  startedUs: number | null;
  exit: Promise<CommandExit> | null;
}

export class DeclaredCommands {
  private readonly slots: Slot[] = [];
  private originNs: bigint | null = null;
  private stopped = false;
  private finished: Promise<Record<string, CommandRecord[]>> | null = null;

  constructor(
    outages: readonly DeclaredOutage[],
    private readonly runHere: boolean,
    private readonly notice: (message: string) => void,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    for (const o of outages) {
      const slot = (role: 'break' | 'restore', line: string, plannedUs: number): Slot => ({
        outage: o,
        role,
        line,
        plannedUs,
        timer: null,
        running: null,
        startedUs: null,
        exit: null,
      });
      this.slots.push(slot('break', o.break, o.atUs));
      if (o.restore !== null) this.slots.push(slot('restore', o.restore, o.atUs + o.offlineUs));
    }
  }

  /** The run origin is set: every command is timed from it. */
  start(originNs: bigint): void {
    if (!this.runHere || this.stopped) return;
    this.originNs = originNs;
    for (const s of this.slots) {
      const delayMs = Number(originNs - monotonicNowNs()) / 1e6 + s.plannedUs / 1000;
      s.timer = setTimeout(() => this.launch(s), Math.max(0, delayMs));
    }
  }

  /** Ctrl-C: running commands end with their process groups; the ones not started yet never start. */
  interrupt(): void {
    this.stopped = true;
    for (const s of this.slots) {
      if (s.timer !== null) clearTimeout(s.timer);
      s.running?.interrupt();
    }
  }

  /** The run ended: waits for commands still running (each bounded by its timeout); their records by outage name. */
  finish(): Promise<Record<string, CommandRecord[]>> {
    this.finished ??= this.collect();
    return this.finished;
  }

  private async collect(): Promise<Record<string, CommandRecord[]>> {
    this.stopped = true;
    for (const s of this.slots) if (s.timer !== null) clearTimeout(s.timer);
    const out: Record<string, CommandRecord[]> = {};
    for (const s of this.slots) {
      const rec = await this.record(s);
      (out[s.outage.name] ??= []).push(rec);
      if (rec.outcome === 'not-run' && s.role === 'restore' && this.slots.some((b) => b.outage === s.outage && b.exit))
        this.notice(
          `warning: declared outage ${s.outage.name}: the run stopped before its restore command ran; the target may still be broken`,
        );
    }
    return out;
  }

  private launch(s: Slot): void {
    s.timer = null;
    if (this.stopped || this.originNs === null) return;
    s.startedUs = Math.max(0, Math.round(Number(monotonicNowNs() - this.originNs) / 1000));
    s.running = startCommand(s.line, s.outage.timeoutUs / 1000, this.env);
    s.exit = s.running.done;
    const group = s.running.pgid === null ? '' : ` (process group ${s.running.pgid})`;
    this.notice(`declared outage ${s.outage.name}: ${s.role} command started at ${formatUs(s.startedUs)}${group}`);
    void s.exit.then((e) => {
      const outcome = outcomeOf(e);
      if (outcome !== 'ok')
        this.notice(`warning: declared outage ${s.outage.name}: ${describeCommand(s.role, outcome, e)}`);
    });
  }

  private async record(s: Slot): Promise<CommandRecord> {
    const base = { role: s.role, plannedUs: s.plannedUs };
    if (!this.runHere) return { ...base, ...NEVER, outcome: 'other-shard', note: 'shard 1 runs the commands' };
    if (s.exit === null) return { ...base, ...NEVER, outcome: 'not-run', note: 'the run stopped before its time' };
    const e = await s.exit;
    return {
      ...base,
      outcome: outcomeOf(e),
      startedUs: s.startedUs,
      durationUs: e.durationUs,
      exitCode: e.exitCode,
      signal: e.signal,
      outputTail: e.outputTail,
      outputTruncated: e.outputTruncated,
      note: e.note,
    };
  }
}

const NEVER = {
  startedUs: null,
  durationUs: null,
  exitCode: null,
  signal: null,
  outputTail: '',
  outputTruncated: false,
} as const;

function outcomeOf(e: CommandExit): CommandOutcome {
  if (e.endedBy !== null) return e.endedBy;
  return e.exitCode === 0 ? 'ok' : 'failed';
}

/** One line for stderr: what went wrong and the last lines of the (masked) output. */
export function describeCommand(role: string, outcome: CommandOutcome, e: CommandExit): string {
  const how =
    outcome === 'failed'
      ? e.signal !== null
        ? `ended by ${e.signal}`
        : `exit code ${e.exitCode}`
      : (e.note ?? outcome);
  const last = e.outputTail.trimEnd().split('\n').slice(-3).join(' | ');
  return `${role} command ${outcome === 'failed' ? 'failed' : outcome}: ${how} after ${formatUs(e.durationUs)}${last === '' ? '' : `; output: ${last}`}`;
}

/**
 * A scenario from elsewhere never runs commands by surprise: with declared outages, the shard that
 * runs them (shard 1, or an unsharded run) needs --allow-commands; exit 2 naming the field otherwise.
 */
export function commandsAllowedProblem(
  outages: readonly DeclaredOutage[],
  runsHere: boolean,
  allowed: boolean,
): string | null {
  const first = outages[0];
  if (first === undefined || !runsHere || allowed) return null;
  return (
    `declaredOutages[0].break: this scenario runs ${outages.length === 1 ? 'a command' : 'commands'} on this machine ` +
    `(${outages.length} declared outage${outages.length === 1 ? '' : 's'}, the first "${first.name}" at ${formatUs(first.atUs)}); ` +
    'herd runs them only with --allow-commands — read them in the scenario first'
  );
}
