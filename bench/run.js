#!/usr/bin/env node
/**
 * `npm run bench`: herd's performance benchmark (issue 3). Prints figures; asserts nothing.
 *
 * For MQTT 3.1.1 CONNECT→CONNACK over TCP on loopback, against each target (a private Mosquitto
 * when installed, herd's embedded target), every measurement on a fresh target process:
 * 1. C reference ceiling: bench/c/mqtt_ref.c with K handshakes in flight (median of --repeats);
 * 2. herd ceiling: the same K in flight (--max-handshakes K/workers), offered far above it;
 * 3. herd sustained rate: open model, offered rate stepped up/down and bisected (steps.js);
 * 4. bytes per held idle connection at 10k and at --max-connections, herd and C.
 * It writes bench/out/bench-<date>.json and prints a table. See docs/performance.md.
 */
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildReference, runReference } from './lib/cref.js';
import { BenchFlagError, USAGE, parseFlags } from './lib/flags.js';
import { runHerd } from './lib/herd.js';
import { median, procCpuUs } from './lib/procs.js';
import { SourcePool, parsePool } from './lib/sources.js';
import { StepSearch, passes, roundRate } from './lib/steps.js';
import { renderTable } from './lib/table.js';
import { embeddedFactory, findMosquitto, mosquittoFactory } from './lib/targets.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Offered rate for ceiling runs: far above what anything reaches here, so the cap is the limit. */
const CEILING_OFFERED_PER_S = 100_000;
const HERD_RUN_TIMEOUT_MS = 180_000;
/**
 * Hold of a ceiling run: longer than the 10 s connect timeout, so by teardown every attempt has
 * either connected, failed or been dropped (lag > timeout) and none is cut off by the teardown.
 */
const CEILING_HOLD_MS = 11_000;
const REF_RUN_TIMEOUT_MS = 120_000;
/** Below this 1-minute load average the machine counts as quiet for the report's "noisy" flag. */
const QUIET_LOAD = 0.5;

/** @type {import('./lib/targets.js').Target | null} */
let activeTarget = null;

const log = (msg) => process.stderr.write(`${msg}\n`);

async function main() {
  let o;
  try {
    o = parseFlags(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof BenchFlagError)) throw err;
    log(`bench: ${err.message}`);
    return 2;
  }
  if (o.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const pool = new SourcePool(parsePool(o.sourcePool));
  const outDir = resolve(repoRoot, o.out);
  const stamp = new Date().toISOString().replace(/[:]/g, '').replace(/\..*/, '');
  const workDir = join(outDir, `run-${stamp}`);
  const snapshot = snapshotBuild(workDir);
  const deadline = Date.now() + o.maxMinutes * 60_000;
  const loadBefore = os.loadavg();
  const ref = buildReference(repoRoot);
  if ('skipped' in ref) log(`bench: SKIP C reference: ${ref.skipped}`);

  const factories = [];
  if (o.targets.includes('mosquitto')) {
    const bin = findMosquitto();
    if (bin === null)
      log('bench: SKIP Mosquitto: not installed (apt-get install -y mosquitto); measuring the embedded target only');
    else factories.push(mosquittoFactory(bin));
  }
  if (o.targets.includes('embedded')) factories.push(embeddedFactory(snapshot));

  const ctx = { o, pool, workDir, snapshot, deadline, ref, seq: 0 };
  const targets = [];
  for (const f of factories) targets.push(await benchTarget(ctx, f));

  const report = {
    bench: 'herd',
    schema: 1,
    date: new Date().toISOString(),
    noisy: loadBefore[0] > QUIET_LOAD,
    machine: {
      cpus: os.availableParallelism(),
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      node: process.version,
      kernel: os.release(),
      loadBefore,
      loadAfter: os.loadavg(),
      compiler: 'binary' in ref ? ref.compiler : null,
    },
    options: o,
    targets,
  };
  const jsonPath = join(outDir, `bench-${stamp}.json`);
  writeFileSync(jsonPath, JSON.stringify(report, null, 2) + '\n');
  process.stdout.write(renderTable(report) + '\n');
  process.stdout.write(`\nwritten: ${jsonPath}\nrun files: ${workDir}\n`);
  return 0;
}

/**
 * Freezes the build under test: a copy of dist/, bin/ and package.json taken at the start, so a
 * rebuild during a long bench (other work in the same tree) cannot change the code being measured.
 * Packages still resolve from the repository's node_modules (Node walks up from the copy).
 */
function snapshotBuild(workDir) {
  if (!existsSync(join(repoRoot, 'dist/cli/main.js')))
    throw new Error('dist/ is missing: run `npm run build` first (npm run bench does)');
  const snap = join(workDir, 'build');
  mkdirSync(snap, { recursive: true });
  for (const p of ['dist', 'bin', 'package.json']) cpSync(join(repoRoot, p), join(snap, p), { recursive: true });
  return snap;
}

/** Runs fn against a fresh instance of the target and always stops it. */
async function withTarget(factory, fn) {
  const t = await factory.start();
  activeTarget = t;
  try {
    return await fn(t);
  } finally {
    activeTarget = null;
    await t.stop();
  }
}

async function benchTarget(ctx, factory) {
  const { o } = ctx;
  const notes = [];
  const out = {
    kind: factory.kind,
    label: factory.label,
    version: factory.version,
    reference: null,
    herd: null,
    notes,
    error: null,
  };
  const timeLeft = () => Date.now() < ctx.deadline;
  const herdRun = (t, spec) => {
    const runDir = join(
      ctx.workDir,
      `${String(++ctx.seq).padStart(3, '0')}-${factory.kind}-herd-${spec.devices}-at-${spec.ratePerS}`,
    );
    mkdirSync(runDir, { recursive: true });
    return runHerd({
      repoRoot: ctx.snapshot,
      probePath: join(repoRoot, 'bench/lib/probe.js'),
      runDir,
      target: t,
      workers: o.workers,
      sources: ctx.pool.take(spec.devices),
      timeoutMs: HERD_RUN_TIMEOUT_MS,
      maxHandshakes: 0,
      ...spec,
    });
  };
  const memPoints = [...new Set([Math.min(10_000, o.maxConnections), o.maxConnections])];
  try {
    // 1. C reference.
    if ('binary' in ctx.ref) {
      const runs = [];
      for (let i = 0; i < o.repeats && timeLeft(); i++) {
        log(
          `[${factory.kind}] C reference ceiling ${i + 1}/${o.repeats}: ${o.maxConnections} connections, ${o.inflight} in flight`,
        );
        runs.push(await withTarget(factory, (t) => refRun(ctx, t, o.maxConnections, 500)));
      }
      const memory = [];
      for (const n of memPoints) {
        const r =
          n === o.maxConnections
            ? runs[0]
            : timeLeft()
              ? await withTarget(factory, (t) => refRun(ctx, t, n, 500))
              : null;
        if (r) memory.push({ connections: n, held: r.held, bytesPerHeldConnection: r.bytesPerHeldConnection });
      }
      out.reference = {
        runs,
        ceilingPerS: runs.length ? median(runs.map((r) => r.handshakesPerS)) : null,
        cpuUsPerConnection: runs.length ? median(runs.map((r) => r.cpuUsPerConnection)) : null,
        targetCpuUsPerConnection: medianOrNull(runs.map((r) => r.targetCpuUsPerConnection)),
        memory,
      };
      for (const r of runs)
        if (r.failed + r.timedOut > 0)
          notes.push(`C reference: ${r.failed} failed, ${r.timedOut} timed out of ${r.count}`);
    } else
      out.reference = {
        skipped: ctx.ref.skipped,
        runs: [],
        ceilingPerS: null,
        cpuUsPerConnection: null,
        targetCpuUsPerConnection: null,
        memory: [],
      };

    // 2. herd ceiling: offered far above, K in flight in total.
    const perWorker = Math.max(1, Math.ceil(o.inflight / o.workers));
    const ceilingRuns = [];
    for (let i = 0; i < o.repeats && timeLeft(); i++) {
      log(
        `[${factory.kind}] herd ceiling ${i + 1}/${o.repeats}: ${o.maxConnections} connections, --max-handshakes ${perWorker} × ${o.workers} workers`,
      );
      ceilingRuns.push(
        await withTarget(factory, (t) =>
          herdRun(t, {
            devices: o.maxConnections,
            ratePerS: CEILING_OFFERED_PER_S,
            holdMs: CEILING_HOLD_MS,
            maxHandshakes: perWorker,
          }),
        ),
      );
    }
    const herd = {
      ceilingRuns,
      ceilingPerS: ceilingRuns.length ? median(ceilingRuns.map((r) => r.completedAllPerS)) : null,
      ceilingCpuUsPerConnection: medianOrNull(ceilingRuns.map((r) => r.cpu.usPerConnection)),
      steps: [],
      stepGuardInFlight: 0,
      sustained: null,
      memory: [],
      marginal: null,
    };
    out.herd = herd;
    for (const r of ceilingRuns)
      if (r.errorCount > 0)
        notes.push(`herd ceiling run: ${r.errorCount} of ${r.planned} not connected (${attemptsText(r)})`);

    // 3. herd sustained: open model, step search. Against a target whose listen backlog is small
    // (Mosquitto: 100) the steps keep handshakes in flight just under it, so a momentary stall of
    // the target does not turn into SYN retries that measure the backlog instead of herd; the
    // guard only delays attempts, which still counts in connect.total and the completed rate.
    const guardTotal = o.stepGuard && factory.listenBacklog < 1000 ? factory.listenBacklog - 4 : 0;
    const guardPerWorker = guardTotal > 0 ? Math.max(1, Math.floor(guardTotal / o.workers)) : 0;
    herd.stepGuardInFlight = guardPerWorker * o.workers;
    const search = new StepSearch(o.startRate ?? roundRate(0.6 * (herd.ceilingPerS ?? 5000)));
    let rate = search.next;
    for (let i = 0; i < o.maxSteps && rate !== null && timeLeft(); i++) {
      const devices = Math.max(100, Math.min(o.maxConnections, Math.round(rate * o.stepSeconds)));
      const r = await withTarget(factory, (t) =>
        herdRun(t, { devices, ratePerS: rate, holdMs: o.stepHoldMs, maxHandshakes: guardPerWorker }),
      );
      const verdict = passes(r);
      log(
        `[${factory.kind}] herd step ${i + 1}: offered ${rate}/s × ${r.planned} → completed ${Math.round(r.completedPerS)}/s, ` +
          `p99 ${((r.connectTotalUs?.p99 ?? 0) / 1000).toFixed(1)} ms, errors ${r.errorCount}, ${verdict.pass ? 'PASS' : 'FAIL'}${verdict.why.length ? ` (${verdict.why.join('; ')})` : ''}`,
      );
      herd.steps.push({ ...r, pass: verdict.pass, why: verdict.why });
      rate = search.record(rate, verdict.pass);
    }
    const best = herd.steps.filter((s) => s.pass).sort((a, b) => b.offeredPerS - a.offeredPerS)[0];
    herd.sustained = best
      ? {
          offeredPerS: best.offeredPerS,
          completedPerS: best.completedPerS,
          planned: best.planned,
          cpuUsPerConnection: best.cpu.usPerConnection,
          targetCpuUsPerConnection: best.targetCpuUsPerConnection,
          connectTotalUs: best.connectTotalUs,
        }
      : null;
    const teardownOnly = herd.steps.filter((s) => s.pass && s.saturated).length;
    if (teardownOnly > 0)
      notes.push(
        `${teardownOnly} passing step(s) were flagged saturated by herd only for its teardown block (see docs/performance.md)`,
      );
    if (best && best.offeredPerS === Math.max(...herd.steps.map((s) => s.offeredPerS)))
      notes.push(
        'the highest rate offered passed: the search ran out of steps or time before it found a failing rate (raise --max-steps)',
      );
    if (best && best.planned < best.offeredPerS * o.stepSeconds)
      notes.push(
        `sustained over ${(best.overMs / 1000).toFixed(2)} s only: one target process holds < 20,000 sockets and herd holds every session until teardown`,
      );

    // 4. Memory per held idle connection, at a rate comfortably below the sustained one.
    const holdRate = roundRate(
      Math.min(5000, Math.max(1000, 0.5 * (herd.sustained?.offeredPerS ?? herd.ceilingPerS ?? 2000))),
    );
    for (const n of memPoints) {
      if (!timeLeft()) break;
      log(`[${factory.kind}] herd memory: ${n} connections at ${holdRate}/s, held ${o.memHoldMs} ms`);
      const r = await withTarget(factory, (t) =>
        herdRun(t, { devices: n, ratePerS: holdRate, holdMs: o.memHoldMs, gcSamples: true }),
      );
      herd.memory.push({
        connections: n,
        held: r.memory.held,
        ...r.memory,
        errors: r.errorCount,
        cpuUsPerConnection: r.cpu.usPerConnection,
      });
    }
    herd.marginal = marginalMemory(herd.memory);
  } catch (err) {
    out.error = err instanceof Error ? err.message : String(err);
    log(`[${factory.kind}] measurement failed: ${out.error}`);
  }
  if (!timeLeft()) notes.push(`stopped at the --max-minutes bound (${o.maxMinutes} min): later figures are missing`);
  return out;
}

/**
 * Bytes per additional held session between the smallest and the largest count: what the
 * 100,000th session costs, without the fixed memory a run adds whatever its size (histograms,
 * buffers, JIT code), which inflates the per-session figure at small counts.
 */
function marginalMemory(points) {
  if (points.length < 2) return null;
  const [a, b] = [points[0], points.at(-1)];
  const dn = b.held - a.held;
  if (!(dn > 0)) return null;
  const m = (ka) => {
    const x = ka(a);
    const y = ka(b);
    return x === null || y === null || x === undefined || y === undefined ? null : (y * b.held - x * a.held) / dn;
  };
  return {
    from: a.held,
    to: b.held,
    rssBytesPerConnection: m((p) => p.rssBytesPerConnection),
    heapUsedAfterGcBytesPerConnection: m((p) => p.afterGc?.heapUsedBytesPerConnection ?? null),
    heapTotalAfterGcBytesPerConnection: m((p) => p.afterGc?.heapTotalBytesPerConnection ?? null),
    externalAfterGcBytesPerConnection: m((p) => p.afterGc?.externalBytesPerConnection ?? null),
  };
}

function attemptsText(r) {
  const a = r.attempts;
  const parts = [
    `failed ${a.failed}`,
    `timed out ${a.timedOut}`,
    `dropped ${a.dropped}`,
    `in flight at end ${a.inFlightAtEnd}`,
  ];
  const codes = r.errors.map((e) => `${e.count}× ${e.code}`);
  return parts.concat(codes).join(', ');
}

function medianOrNull(xs) {
  const ok = xs.filter((x) => typeof x === 'number' && Number.isFinite(x));
  return ok.length ? median(ok) : null;
}

async function refRun(ctx, t, count, holdMs) {
  const cpu0 = procCpuUs(t.pid);
  const r = await runReference(ctx.ref.binary, {
    target: t,
    count,
    inflight: ctx.o.inflight,
    sources: ctx.pool.take(count),
    holdMs,
    prefix: `ref${++ctx.seq}`,
    timeoutMs: REF_RUN_TIMEOUT_MS,
  });
  const cpu1 = procCpuUs(t.pid);
  return {
    ...r,
    targetCpuUsPerConnection: cpu0 !== null && cpu1 !== null && r.succeeded > 0 ? (cpu1 - cpu0) / r.succeeded : null,
  };
}

// Ctrl-C reaches the herd child too (same process group); stop our target and leave.
process.on('SIGINT', () => {
  log('bench: interrupted');
  const t = activeTarget;
  void (t ? t.stop() : Promise.resolve()).finally(() => process.exit(130));
});

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    log(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exitCode = 3;
  },
);
