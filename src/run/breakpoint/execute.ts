/**
 * `herd breakpoint` as one use case: read the scenario and its `breakpoint:` section, then run
 * one real `herd run` per level (a derived scenario: a settle wave and a measure wave of fresh
 * devices at the level's rate, open model, then a drain), judge each level, ask the planner for
 * the next, and write breakpoint.json and breakpoint.html next to the levels' own results.
 */
import { join, relative, resolve } from 'node:path';
import { mkdirSync } from 'node:fs';
import { HerdError } from '../../errors.js';
import { parseScenarioText, readScenarioText } from '../../scenario/load.js';
import { validateScenario } from '../../scenario/validate.js';
import type { Overrides } from '../../scenario/resolve.js';
import {
  breakpointSchema,
  DEFAULT_HELD_STOP_WHEN,
  DEFAULT_STOP_WHEN,
  type BreakpointInput,
} from '../../scenario/breakpoint-schema.js';
import { mustParseDurationUs } from '../../util/duration.js';
import { ensureWritableDir, removeOutput, writeError, writeFileAtomic } from '../../util/atomic-write.js';
import type { Interrupt } from '../interrupt.js';
import { HERD_VERSION } from '../../version.js';
import { executeRun, type RunRequest } from './deps.js';
import { prepareLevelRun, type LevelShape } from './level-run.js';
import {
  evaluateSearchThresholds,
  harnessCouldFlip,
  parseSearchThresholds,
  parseStopWhen,
  type Spec,
} from './conditions.js';
import { judgeLevel } from './level.js';
import { nextLevel, type SearchSettings } from './planner.js';
import { abortedOutcome, describeOutcome } from './outcome.js';
import { decideExit } from '../decide-exit.js';
import type { BreakpointReport, LevelReport } from '../../results/breakpoint-types.js';
import { BREAKPOINT_SCHEMA_VERSION } from '../../results/breakpoint-types.js';
import { renderBreakpointHtml } from '../../report/breakpoint-html.js';
import { hostText } from '../../report/facts.js';
import type { Results } from '../../results/types.js';

export interface BreakpointRequest {
  scenarioPath: string;
  /** The command's working directory: relative TLS paths in the scenario are read against it. */
  cwd?: string;
  /** target, targetProfile, seed only: the search sets rates and device counts itself. */
  overrides: Pick<Overrides, 'target' | 'targetProfile' | 'seed'>;
  outDir: string;
  /** Flags over the scenario's `breakpoint:` section. */
  settings: Partial<
    Pick<
      BreakpointInput,
      | 'mode'
      | 'startRate'
      | 'maxRate'
      | 'resolution'
      | 'maxLevels'
      | 'settle'
      | 'measure'
      | 'startDevices'
      | 'maxDevices'
      | 'arrivalRate'
    >
  >;
  /** --threshold flags: added to the section's thresholds. */
  thresholds: Spec;
  run: Pick<RunRequest, 'workers' | 'sourceIps' | 'maxHandshakesInFlight' | 'skipPreflight' | 'native'>;
  wallClock?: () => Date;
  /** Ctrl-C: stops the level in progress; breakpoint.json is written with the levels done, marked aborted. */
  interrupt?: Interrupt;
}

export interface BreakpointHooks {
  onLevelStart?(index: number, rate: number, phase: string, mode: BreakpointReport['mode']): void;
  onLevel?(level: LevelReport, mode: BreakpointReport['mode']): void;
  onNotice?(message: string): void;
}

export interface BreakpointOutcome {
  report: BreakpointReport;
  dir: string;
}

export async function executeBreakpoint(
  req: BreakpointRequest,
  hooks: BreakpointHooks = {},
): Promise<BreakpointOutcome> {
  const now = req.wallClock ?? (() => new Date());
  const data = parseScenarioText(readScenarioText(req.scenarioPath), req.scenarioPath);
  const loaded = validateScenario(data, req.scenarioPath, req.overrides, req.cwd);
  const section: BreakpointInput = { ...(loaded.scenario.breakpoint ?? breakpointSchema.parse({})), ...req.settings };
  const held = section.mode === 'held-devices';
  const stop = parseStopWhen(section.stopWhen ?? (held ? DEFAULT_HELD_STOP_WHEN : DEFAULT_STOP_WHEN));
  const ci = parseSearchThresholds({ ...(section.thresholds ?? {}), ...req.thresholds });
  const problems = [...stop.problems, ...ci.problems];
  if (loaded.resolved.declaredOutages.length > 0)
    problems.push(
      'declaredOutages: herd breakpoint runs no commands (each level would break the target again); use herd run',
    );
  if (section.minRate > section.maxRate)
    problems.push(`breakpoint.minRate: ${section.minRate} is above maxRate ${section.maxRate}`);
  if (section.minDevices > section.maxDevices)
    problems.push(`breakpoint.minDevices: ${section.minDevices} is above maxDevices ${section.maxDevices}`);
  if (problems.length > 0)
    throw new HerdError(
      'E_SCENARIO_INVALID',
      `${req.scenarioPath}: the breakpoint settings have ${problems.length} problem${problems.length === 1 ? '' : 's'}`,
      problems,
    );

  const settleS = mustParseDurationUs(section.settle) / 1e6;
  const measureS = mustParseDurationUs(section.measure) / 1e6;
  if (settleS <= 0 || measureS < 1)
    throw new HerdError(
      'E_SCENARIO_INVALID',
      `${req.scenarioPath}: breakpoint.measure must be at least 1s and settle more than 0s`,
    );
  const connectTimeoutS =
    Math.max(
      loaded.resolved.device.connectTimeoutUs,
      ...loaded.resolved.cohorts.map((c) => c.device.connectTimeoutUs),
    ) / 1e6;
  const drainS = section.drain !== undefined ? mustParseDurationUs(section.drain) / 1e6 : connectTimeoutS + 0.5;
  const holdS = mustParseDurationUs(section.hold) / 1e6;
  // The planner searches one number: connects/s, or devices held at once.
  const search: SearchSettings = {
    startRate: held ? section.startDevices : section.startRate,
    factor: section.factor,
    resolution: section.resolution,
    minRate: held ? section.minDevices : section.minRate,
    maxRate: held ? section.maxDevices : section.maxRate,
    maxLevels: section.maxLevels,
  };
  const shape: LevelShape = held
    ? { mode: 'held-devices', arrivalRate: section.arrivalRate, holdS, drainS }
    : { mode: 'connect-rate', settleS, measureS, drainS };

  const outDir = resolve(req.outDir);
  const createdOut = ensureWritableDir(outDir);
  const startedAt = now();
  const dir = join(outDir, `breakpoint-${startedAt.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)}`);
  const levelsDir = join(dir, 'levels');
  try {
    mkdirSync(levelsDir, { recursive: true });
  } catch (err) {
    removeOutput(dir, outDir, createdOut);
    throw writeError(levelsDir, err);
  }

  const levels: LevelReport[] = [];
  let target = String(loaded.resolved.target);
  let interrupted: string | null = null;
  /** The level whose target lagged most (or the last): what the headline says about the machine. */
  let hostFrom: Results | null = null;
  try {
    for (;;) {
      interrupted = req.interrupt?.reason ?? null;
      if (interrupted !== null) break;
      const step = nextLevel(levels, search);
      if (step.done) break;
      const index = levels.length;
      hooks.onLevelStart?.(index, step.rate, step.phase, section.mode);
      const runReq = prepareLevelRun(data as Record<string, unknown>, step.rate, shape, index, levelsDir, req);
      let level: LevelReport;
      let detach = (): void => {};
      try {
        const run = await executeRun(runReq, {
          onNotice: (m) => hooks.onNotice?.(`level ${index + 1}: ${m}`),
          onStart: (stop) => {
            detach = req.interrupt?.attach(stop) ?? detach;
          },
        });
        detach();
        target = run.results.run.target;
        const lagged = (x: Results | null): number => x?.run.targetLag?.overBoundTotal ?? 0;
        if (hostFrom === null || lagged(run.results) >= lagged(hostFrom)) hostFrom = run.results;
        // A level cut short by Ctrl-C is not judged: its partial results stay in levels/.
        if (run.results.run.status === 'aborted' && req.interrupt?.reason != null) continue;
        // held-devices: the whole level is the window (no settle); achieved is connects/s over the arrival period.
        const win = held
          ? { rate: step.rate, settleS: 0, measureS: step.rate / section.arrivalRate }
          : { rate: step.rate, settleS, measureS };
        const judged = judgeLevel(run.results, win, stop.thresholds);
        if (held) judged.offeredPerS = section.arrivalRate;
        level = {
          index,
          phase: step.phase,
          runId: run.results.run.id,
          resultsPath: relative(dir, run.resultsPath),
          ...judged,
        };
      } catch (err) {
        detach();
        // A level this machine cannot carry (preflight: open files, ports) is the harness's limit, not the target's.
        if (!(err instanceof HerdError) || (err.code !== 'E_PREFLIGHT' && err.code !== 'E_WORKER')) throw err;
        level = harnessLevel(index, step.rate, step.phase, held ? 0 : settleS, [err.message, ...err.details]);
        if (held) level.offeredPerS = section.arrivalRate;
      }
      levels.push(level);
      hooks.onLevel?.(level, section.mode);
    }

    const end = nextLevel(levels, search);
    if (!end.done && interrupted === null)
      throw new HerdError('E_INTERNAL', 'the breakpoint search stopped before it was done');
    const unit = held ? 'devices' : '/s';
    const outcome = end.done
      ? describeOutcome(end, levels, req.run.workers, req.run.maxHandshakesInFlight, unit)
      : abortedOutcome(levels, interrupted as string, unit);
    // A rate found with the target on herd's own cores describes the target on this box: say so.
    const host = hostFrom === null ? null : hostText(hostFrom);
    if (host !== null) outcome.headline = `${outcome.headline} (the target ${host})`;
    const values = {
      'breakpoint.rate': outcome.end === 'harness' && outcome.rate === null ? null : outcome.rate,
      'breakpoint.levels': levels.length,
    };
    const thresholds = evaluateSearchThresholds(ci.thresholds, values);
    const failed = thresholds.some((t) => !t.passed);
    const harnessLimited = outcome.end === 'harness';
    // A claim the thresholds still prove (e.g. ≥ 2000/s held before the harness gave out) stands,
    // and so does a failure no search could have turned (a bound above maxRate).
    const flippable = ci.thresholds.some(
      (t, i) => thresholds[i]?.passed === false && harnessCouldFlip(t, values['breakpoint.rate'], search.maxRate),
    );
    const verdict: BreakpointReport['verdict'] =
      interrupted !== null
        ? 'aborted'
        : failed
          ? harnessLimited && flippable
            ? 'harness-limited'
            : 'failed'
          : harnessLimited && thresholds.length === 0
            ? 'harness-limited'
            : 'passed';
    const { exitCode } = decideExit({
      aborted: interrupted !== null ? 'interrupted' : null,
      balanced: true,
      workerFailed: false,
      harnessDecided: verdict === 'harness-limited',
      thresholdsPassed: !failed,
    });

    const report: BreakpointReport = {
      schemaVersion: BREAKPOINT_SCHEMA_VERSION,
      tool: { name: 'herd', version: HERD_VERSION },
      mode: section.mode,
      status: interrupted === null ? 'completed' : 'aborted',
      abortReason: interrupted,
      scenario: loaded.resolved.name,
      target,
      startedAt: startedAt.toISOString(),
      endedAt: now().toISOString(),
      settings: {
        ...search,
        settleS: held ? 0 : settleS,
        measureS: held ? 0 : measureS,
        drainS,
        arrivalRate: held ? section.arrivalRate : null,
        holdS: held ? holdS : null,
        stopWhen: stop.thresholds.map((t) => ({ metric: t.metric, expression: t.expression })),
      },
      levels,
      outcome,
      thresholds,
      verdict,
      exitCode,
    };
    writeFileAtomic(join(dir, 'breakpoint.html'), renderBreakpointHtml(report));
    // Written last: its presence means the search's files are complete.
    writeFileAtomic(join(dir, 'breakpoint.json'), JSON.stringify(report, null, 2) + '\n');
    return { report, dir };
  } catch (err) {
    // A disk that filled up mid-search leaves no half-written search behind.
    if (err instanceof HerdError && err.code === 'E_OUT_WRITE') removeOutput(dir, outDir, createdOut);
    throw err;
  }
}

function harnessLevel(
  index: number,
  rate: number,
  phase: LevelReport['phase'],
  settleS: number,
  reasons: string[],
): LevelReport {
  return {
    index,
    rate,
    phase,
    verdict: 'harness',
    runId: '',
    resultsPath: '',
    window: { settleS, endS: settleS },
    offeredPerS: rate,
    achievedPerS: 0,
    ended: { succeeded: 0, failed: 0, timedOut: 0, shed: 0 },
    errorRate: null,
    shedRate: null,
    connectP50Us: null,
    connectP99Us: null,
    tcpConnectP99Us: null,
    stopConditions: [],
    brokenBy: [],
    tipping: [],
    harness: { limited: true, flagged: true, reasons },
  };
}
