/**
 * `herd run` as one function: load and validate everything, start the embedded target when
 * asked, run the coordinator, build results.json, write it atomically. Returns the results;
 * the CLI only maps them to output and an exit code.
 */
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { HerdError } from '../errors.js';
import { formatUs } from '../util/duration.js';
import { loadScenario } from '../scenario/load.js';
import { type LoadedScenario } from '../scenario/validate.js';
import type { Overrides } from '../scenario/resolve.js';
import type { ResolvedScenario } from '../results/resolved-scenario.js';
import { isLoopbackHost, parseTargetUrl } from '../util/target-url.js';
import { restartEmbeddedTarget, spawnEmbeddedTarget, type EmbeddedTarget } from '../target/spawn.js';
import type { TargetOptionsInput } from '../scenario/target-options.js';
import { describeTargetKnobs } from '../target/options.js';
import { Coordinator, type SecondEvent } from '../engine/coordinator.js';
import { WorkerPool } from '../engine/worker-pool.js';
import { warmSpecFor } from '../engine/warm-engine.js';
import { sentFromDelivery } from './webhook-sink.js';
import { checkReachable, openRunSinks, type RunSinks } from './run-sinks.js';
import { checkRunTargets, embeddedOptionsFor, resolveRunTargets } from './targets.js';
import { engineNotices, enginesUsed, withoutNative } from '../engine/device-engine.js';
import { prepareTarget } from '../protocols/kinds.js';
import type { TlsSettings } from '../protocols/transports/tls-options.js';
import { buildResults } from './build-results.js';
import { outcomeOfRun } from './outcome.js';
import { describeEnvironment } from './environment.js';
import type { Results } from '../results/types.js';
import { appendToFile, ensureWritableDir, removeOutput, writeError, writeFileAtomic } from '../util/atomic-write.js';
import { mkdirSync } from 'node:fs';
import { renderFormat, renderRunFiles } from '../report/render.js';
import { runPreflight, withEmbeddedProcesses } from './run-preflight.js';
import { redactScenarioSecrets } from '../scenario/url-credentials.js';
import { commandsAllowedProblem, DeclaredCommands } from './declared-commands.js';

export interface RunRequest {
  scenarioPath: string;
  /** The command's working directory: relative TLS paths in the scenario are read against it. */
  cwd?: string;
  overrides: Overrides;
  outDir: string;
  workers: number | undefined;
  sourceIps: string[];
  maxHandshakesInFlight: number;
  allowSaturated: boolean;
  /** 0-based slice of the plan to run; count 1 = the whole plan. */
  shard: { index: number; count: number };
  startAtMs: number | null;
  onWorkerFailure: 'abort' | 'continue';
  /**
   * Run even when preflight finds the plan does not fit this machine (what ran out is then recorded); also skips the
   * reachability probe.
   */
  skipPreflight: boolean;
  /** Run the storm even when the reachability probe finds nothing listening. */
  allowUnreachable?: boolean;
  /** --metrics-port: serve live Prometheus metrics on this loopback address while running. */
  metrics: { host: string; port: number } | null;
  /** --webhook-sink: count the messages the target forwards onward, on this loopback address. */
  webhookSink?: { host: string; port: number } | null;
  /** $GITHUB_STEP_SUMMARY: the Markdown summary is appended there when set. */
  stepSummaryPath: string | null;
  /** --allow-commands: run the scenario's declared-outage commands (shard 1 only). */
  allowCommands?: boolean;
  /** false (HERD_NATIVE=0 in the command's environment): every cohort on the JavaScript path. Default true. */
  native?: boolean;
  /** false (--no-warm-up): the workers start the storm without warming their engine first. Default true. */
  warmUp?: boolean;
}

export interface RunHooks {
  /** Called once the run is under way with a function that stops it (first call) or forces it (second). */
  onStart?(
    stop: (reason: string) => void,
    info: { runId: string; target: string; devices: number; workers: number },
  ): void;
  onSecond?(ev: SecondEvent): void;
  onNotice?(message: string): void;
}

export interface RunReport {
  results: Results;
  resultsPath: string;
  loaded: LoadedScenario;
}

export const MAX_PACKET_BYTES = 256 * 1024;
/** A shard later than this after --start-at may see a declared outage's losses outside its window. */
const DECLARED_LATE_MS = 500;

export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-${randomBytes(2).toString('hex')}`;
}

export async function executeRun(req: RunRequest, hooks: RunHooks = {}): Promise<RunReport> {
  const loaded = loadScenario(req.scenarioPath, req.overrides, req.cwd);
  const s = loaded.resolved;
  const outDir = resolve(req.outDir);
  const runId = newRunId();

  // Everything that can be known before a socket opens is checked first (exit 2/3, nothing written).
  const remote =
    s.target === 'embedded'
      ? null
      : parseTargetUrl(s.target, req.overrides.target !== undefined ? '--target' : 'target');
  const refused = commandsAllowedProblem(s.declaredOutages, req.shard.index === 0, req.allowCommands === true);
  if (refused !== null) throw new HerdError('E_COMMANDS_NOT_ALLOWED', `${req.scenarioPath}: ${refused}`);
  const pre = runPreflight(s, req, req.shard.count);
  if (pre.problems.length > 0 && !req.skipPreflight) {
    throw new HerdError(
      'E_PREFLIGHT',
      'this machine cannot carry the plan as configured (--no-preflight runs it anyway)',
      pre.problems,
    );
  }
  if (pre.problems.length > 0) for (const p of pre.problems) hooks.onNotice?.(`preflight (ignored): ${p}`);
  for (const w of loaded.warnings) hooks.onNotice?.(`warning: ${w}`);
  checkRunTargets(s); // bad TLS settings, a device kind its URL cannot carry: exit 2 before anything starts
  // A target that never answers and a port that cannot be bound are found before --out exists too.
  const unreachable = remote === null ? null : await checkReachable(remote, { allowUnreachable: false, ...req });
  const sinks = await openRunSinks(req.metrics, req.webhookSink);
  let out: { created: string | null } | null = null;
  const runDir = join(outDir, runId);
  let written = false;
  try {
    // After every input check, so bad input leaves not even an empty folder behind.
    out = { created: ensureWritableDir(outDir) };
    if (unreachable !== null) hooks.onNotice?.(unreachable);
    for (const a of pre.advice) hooks.onNotice?.(a);
    const report = await carryOut(req, hooks, { loaded, remote, pre, runId, runDir, sinks });
    written = true;
    if (req.stepSummaryPath) writeStepSummary(req.stepSummaryPath, report.results, hooks);
    return report;
  } finally {
    await sinks.close();
    // A run that ends without its results.json (a full disk, a target that did not start) leaves nothing.
    if (!written && out !== null) removeOutput(runDir, outDir, out.created);
  }
}

/** $GITHUB_STEP_SUMMARY is the CI page's, not the run's: failing to write it is a warning, not a failed run. */
function writeStepSummary(path: string, results: Results, hooks: RunHooks): void {
  try {
    appendToFile(path, renderFormat(results, 'md') + '\n', 'GITHUB_STEP_SUMMARY');
  } catch (err) {
    const why = err instanceof HerdError ? err.message : String(err);
    hooks.onNotice?.(`warning: GITHUB_STEP_SUMMARY: ${why}; the run's own reports are written`);
  }
}

interface Prepared {
  loaded: LoadedScenario;
  remote: ReturnType<typeof parseTargetUrl> | null;
  pre: ReturnType<typeof runPreflight>;
  runId: string;
  runDir: string;
  sinks: RunSinks;
}

/** Starts the target and the sinks, runs the coordinator, writes the reports into runDir. */
async function carryOut(
  req: RunRequest,
  hooks: RunHooks,
  { loaded, remote, pre, runId, runDir, sinks }: Prepared,
): Promise<RunReport> {
  const s = loaded.resolved;
  const workers = pre.workers;
  let embedded: EmbeddedTarget | null = null;
  let targetUrl: string;
  // The workers load their code and warm the run's engine (each against a listener of its own)
  // while the target starts: neither needs the other, and the origin waits for both.
  const warmScenario = req.native === false ? withoutNative(s).scenario : s;
  const pool = WorkerPool.fork(workers, req.warmUp !== false, (index) =>
    warmSpecFor({
      scenario: warmScenario,
      runId,
      shard: req.shard,
      worker: { index, count: workers },
      maxHandshakesInFlight: req.maxHandshakesInFlight,
      maxPacketBytes: MAX_PACKET_BYTES,
      sourceIps: pre.sourceIps,
    }),
  );
  if (remote === null) {
    try {
      embedded = await spawnEmbeddedTarget({
        ...embeddedOptionsFor(s),
        processes: pre.embedded?.processes ?? 1,
      } as TargetOptionsInput);
    } catch (err) {
      pool.discard();
      throw err;
    }
    targetUrl = embedded.url;
  } else {
    targetUrl = remote.url;
  }

  // The embedded target is supervised: if it dies mid-run it comes back on the same ports, and the
  // devices' reconnect policies do the rest (the timeline shows the gap and the recovery).
  let running = true;
  let originNs: bigint | null = null;
  // The target's lag counts from the origin to the plan's end: nothing herd measures is answered in
  // the teardown after it.
  const measuredUs = s.durationUs;
  const supervise = (t: EmbeddedTarget): void => {
    void t.firstExit.then(async (ex) => {
      if (!running || embedded !== t) return;
      hooks.onNotice?.(
        `the embedded target (process ${ex.index}) exited (${ex.signal ?? `code ${ex.code}`}) mid-run; restarting it on the same ports`,
      );
      try {
        const next = await restartEmbeddedTarget(t);
        embedded = next;
        if (originNs !== null) next.setOrigin(originNs, measuredUs);
        if (!running) await next.stop();
        else supervise(next);
      } catch (err) {
        hooks.onNotice?.(`could not restart the embedded target: ${err instanceof Error ? err.message : String(err)}`);
      }
    });
  };
  if (embedded !== null) supervise(embedded);
  const webhookSink = sinks.webhook;
  const notice = (m: string): void => hooks.onNotice?.(m);
  const commands = new DeclaredCommands(s.declaredOutages, req.shard.index === 0, notice);

  try {
    // Devices spread over the embedded target's processes, each with its own open-file limit.
    const { scenario: targeted, perCohort } = resolveRunTargets(
      withEmbeddedProcesses(s, pre),
      embedded,
      remote?.url ?? null,
    );
    const forced = req.native === false ? withoutNative(targeted) : { scenario: targeted, notices: [] };
    const runScenario = forced.scenario;
    // Name the endpoint the devices really use (an embedded target has several listeners).
    if (embedded !== null) targetUrl = perCohort[0]?.[0] ?? targetUrl;
    // Said once, before the origin: which devices that asked for the native core stay on JavaScript.
    const prepared = runScenario.cohorts.map((c, i) =>
      [...(perCohort[i] ?? []), ...(c.targets ?? [])].map((u) =>
        prepareTarget(c.device.protocol, u, (c.device.tls ?? undefined) as TlsSettings | undefined),
      ),
    );
    for (const n of [...forced.notices, ...engineNotices(runScenario.cohorts, prepared)]) hooks.onNotice?.(n);
    const engines = enginesUsed(runScenario.cohorts, prepared);
    const coordinator = new Coordinator({
      runId,
      scenario: runScenario,
      targets: perCohort,
      workers,
      onOrigin: (ns) => {
        originNs = ns;
        commands.start(ns);
        embedded?.setOrigin(ns, measuredUs);
        webhookSink?.setOrigin(ns);
      },
      shard: req.shard,
      startAtMs: req.startAtMs,
      sourceIps: pre.sourceIps,
      maxHandshakesInFlight: req.maxHandshakesInFlight,
      maxPacketBytes: MAX_PACKET_BYTES,
      onWorkerFailure: req.onWorkerFailure,
      warmUp: req.warmUp !== false,
      pool,
    });
    coordinator.on('notice', (m: string) => hooks.onNotice?.(m));
    let last: SecondEvent['bucket'] | null = null;
    coordinator.on('second', (ev: SecondEvent) => {
      last = ev.bucket;
    });
    if (sinks.metrics !== null) {
      sinks.metrics.serve(() => ({ runId, scenario: s.name, ...coordinator.live(), last }));
      hooks.onNotice?.(`metrics: ${sinks.metrics.url}`);
    }
    if (webhookSink !== null) hooks.onNotice?.(`webhook sink: ${webhookSink.url}`);
    if (hooks.onSecond) coordinator.on('second', hooks.onSecond);
    let stops = 0;
    hooks.onStart?.(
      (reason) => {
        stops++;
        commands.interrupt();
        if (stops === 1) coordinator.abort(reason);
        else coordinator.forceStop();
      },
      { runId, target: targetUrl, devices: s.devices, workers },
    );
    const outcome = await coordinator.run();
    const commandRecords = await commands.finish();
    const lateMs = outcome.startAtMs === null ? 0 : outcome.startedAtMs - outcome.startAtMs;
    if (s.declaredOutages.length > 0 && req.shard.count > 1 && lateMs > DECLARED_LATE_MS)
      hooks.onNotice?.(
        `warning: this shard started ${formatUs(lateMs * 1000)} after --start-at; it measured the declared outages on its own origin, off from the commands shard 1 ran (start shards further ahead)`,
      );
    // Forwards still in flight when the devices stopped get a bounded moment to arrive.
    await webhookSink?.settle();
    const webhook = webhookSink?.result(sentFromDelivery(outcome.delivery)) ?? null;
    // The target's own account of how late its host ran its model (null when it did not answer).
    const targetLag = embedded === null ? null : await (embedded as EmbeddedTarget).lag();
    // And its own count of the acknowledged messages it dropped on purpose (issue 24).
    const targetDropped = embedded === null ? null : await (embedded as EmbeddedTarget).deliveriesDropped();
    const results = buildResults({
      runId,
      shard: req.shard.count > 1 ? { index: req.shard.index + 1, count: req.shard.count } : null,
      mergedFrom: null,
      // results.json (and every format rendered from it) never carries a device password.
      scenario: redactScenarioSecrets(runScenario),
      thresholds: loaded.thresholds,
      environment: describeEnvironment(),
      outcome: outcomeOfRun(outcome, runScenario, webhook),
      target: targetUrl,
      embeddedTarget: embedded !== null,
      allowSaturated: req.allowSaturated,
      maxHandshakesPerWorker: req.maxHandshakesInFlight,
      embeddedTargetKnobs: embedded === null ? null : describeTargetKnobs((embedded as EmbeddedTarget).options),
      sharesMachine: embedded !== null || (remote !== null && isLoopbackHost(remote.host)),
      targetLag,
      targetDropped,
      engines,
      names: outcome.names,
      warmUp: req.warmUp !== false,
      commands: commandRecords,
    });
    const resultsPath = join(runDir, 'results.json');
    try {
      mkdirSync(runDir, { recursive: true });
      // Every other format is rendered from results.json; results.json is written last, so its
      // presence means the run's reports are complete.
      for (const f of renderRunFiles(results)) writeFileAtomic(join(runDir, f.name), f.content);
      writeFileAtomic(resultsPath, JSON.stringify(results, null, 2) + '\n');
    } catch (err) {
      throw writeError(runDir, err);
    }
    return { results, resultsPath, loaded };
  } finally {
    pool.discard(); // workers of a run that failed before its coordinator took them over
    running = false;
    commands.interrupt(); // a run that failed mid-way leaves no command running
    await commands.finish();
    await (embedded as EmbeddedTarget | null)?.stop();
  }
}
