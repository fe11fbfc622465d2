#!/usr/bin/env node
/**
 * `node bench/compare-noise.js [--pairs N]`: does `herd compare` cry wolf, and does it miss a real
 * regression? Prints figures; asserts nothing (a benchmark, not a test). See docs/performance.md.
 *
 * N times, interleaved so both kinds see the same machine:
 * - a pair of identical quickstart runs (scenarios/quickstart.yaml) → should not be a regression;
 * - a pair of quickstart runs whose embedded target burns handshakeCostMs 1 then 3 of CPU per
 *   CONNECT (a temporary scenario copy with target.embedded knobs) → should always be one.
 * Each pair is compared (`herd compare a b --format json`) and the two counts are printed:
 *   identical pairs reported as regressions: 0/20; handshakeCost 1→3 reported: 20/20
 * and again for disjoint groups of --group runs per side made of the same runs (the multi-run form).
 * A run herd itself flags as saturated (the harness was the bottleneck, so the run is not a valid
 * measurement of the target) is run again, up to --retries times; how often is reported.
 * Everything goes to loopback: the embedded target listens on 127.0.0.1.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** A quickstart run takes ~16 s plus start-up; far beyond that something is stuck. */
const RUN_TIMEOUT_MS = 180_000;

const USAGE = `node bench/compare-noise.js [options]      (after npm run build)

Runs N pairs of identical quickstart runs and N pairs where the embedded target's handshakeCostMs
goes from 1 to 3, compares each pair with herd compare, and prints how many were reported as
regressions. About 90 s per round of both pairs on 2 cores.

  --pairs N          pairs of each kind (default 20)
  --retries R        reruns of a run herd flags as saturated (default 2)
  --confidence P     passed to herd compare (default: herd's own, 99%)
  --max-minutes M    stop starting rounds after M minutes and report what was measured (default 90)
  --group K          also compare disjoint groups of K runs per side, made of the same runs (default 3; 1 = off)
  --from DIR         run nothing: compare again the runs of an earlier bench folder (bench/out/compare-noise-…)
                     with this build, e.g. after changing the floors
  --out DIR          where compare-noise-<date>.json and the runs go (default bench/out)
  --help`;

function parseFlags(argv) {
  const o = {
    pairs: 20,
    retries: 2,
    confidence: null,
    maxMinutes: 90,
    out: 'bench/out',
    group: 3,
    from: null,
    help: false,
  };
  const num = (v, flag, min, max) => {
    const n = Number(v);
    if (v === undefined || !/^\d+(\.\d+)?$/.test(v) || !(n >= min && n <= max))
      throw new Error(`${flag}: expected a number from ${min} to ${max}, got ${JSON.stringify(v)}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') o.help = true;
    else if (a === '--pairs') o.pairs = num(argv[++i], a, 1, 1000);
    else if (a === '--retries') o.retries = num(argv[++i], a, 0, 10);
    else if (a === '--max-minutes') o.maxMinutes = num(argv[++i], a, 1, 24 * 60);
    else if (a === '--confidence') o.confidence = argv[++i] ?? '';
    else if (a === '--out') o.out = argv[++i] ?? '';
    else if (a === '--group') o.group = num(argv[++i], a, 1, 100);
    else if (a === '--from') o.from = argv[++i] ?? '';
    else throw new Error(`unknown option ${JSON.stringify(a)} (see --help)`);
  }
  return o;
}

const log = (msg) => process.stderr.write(`${msg}\n`);
const load1 = () => Math.round(os.loadavg()[0] * 100) / 100;

/** Runs a command to completion (bounded in time); resolves with its exit code and output. */
function exec(args, timeoutMs) {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, args, {
      cwd: repoRoot,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}

/** A frozen copy of the build, so a rebuild in the tree during a long bench cannot change what runs. */
function snapshotBuild(workDir) {
  if (!existsSync(join(repoRoot, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  const snap = join(workDir, 'build');
  mkdirSync(snap, { recursive: true });
  for (const p of ['dist', 'bin', 'package.json']) cpSync(join(repoRoot, p), join(snap, p), { recursive: true });
  // Packages resolve from the repository's node_modules wherever --out puts the copy.
  symlinkSync(join(repoRoot, 'node_modules'), join(snap, 'node_modules'), 'dir');
  return join(snap, 'bin/herd.js');
}

/** quickstart.yaml with the embedded target's handshake cost set. */
function costScenario(dir, costMs) {
  const text = readFileSync(join(repoRoot, 'scenarios/quickstart.yaml'), 'utf8');
  if (!/^target: embedded$/m.test(text))
    throw new Error('scenarios/quickstart.yaml no longer says `target: embedded`: update bench/compare-noise.js');
  const path = join(dir, `quickstart-cost-${costMs}.yaml`);
  writeFileSync(path, text.replace(/^target: embedded$/m, `target:\n  embedded: { handshakeCostMs: ${costMs} }`));
  return path;
}

/** One herd run; reruns it while herd flags it saturated (up to `retries`). */
async function herdRun(ctx, scenario, label) {
  for (let attempt = 0; ; attempt++) {
    const out = join(ctx.workDir, `${String(++ctx.seq).padStart(3, '0')}-${label}`);
    const loadAtStart = load1();
    const r = await exec([ctx.herd, 'run', scenario, '--quiet', '--out', out], RUN_TIMEOUT_MS);
    const dirs = existsSync(out) ? readdirSync(out) : [];
    const results = dirs.length > 0 ? join(out, dirs[0], 'results.json') : null;
    if (results === null || !existsSync(results))
      throw new Error(`herd run ${label} wrote no results (exit ${r.code ?? r.signal}):\n${r.stderr}`);
    const saturated = JSON.parse(readFileSync(results, 'utf8')).health.saturated === true;
    if (saturated) ctx.saturatedRuns++;
    if (!saturated || attempt >= ctx.o.retries)
      return { results, exit: r.code, saturated, loadAtStart, attempts: attempt + 1 };
    log(`  ${label}: saturated (load ${loadAtStart}), running it again`);
  }
}

/** `herd compare` of base runs against candidate runs; its verdict, regressions and notes. */
async function compare(ctx, basePaths, candPaths) {
  const confidence = ctx.o.confidence === null ? [] : ['--confidence', ctx.o.confidence];
  const args = [
    ctx.herd,
    'compare',
    ...basePaths,
    ...(candPaths.length === 1 && basePaths.length === 1 ? candPaths : ['--candidate', ...candPaths]),
    '--format',
    'json',
    ...confidence,
  ];
  const c = await exec(args, 60_000);
  if (c.code !== 0 && c.code !== 1) throw new Error(`herd compare exited ${c.code}:\n${c.stderr}`);
  const cmp = JSON.parse(c.stdout);
  const p50 = cmp.rows.find((r) => r.key === 'connect.total.p50');
  return {
    regressed: c.code === 1,
    regressions: cmp.regressions,
    busier: cmp.notes.some((n) => n.startsWith('the machine was busier')),
    p50Us: [p50?.base ?? null, p50?.candidate ?? null],
  };
}

function describe(row) {
  const p50 = row.p50Us.map((v) => (v === null ? '–' : `${(v / 1000).toFixed(2)}ms`)).join(' → ');
  return (
    `${row.kind.padEnd(9)} ${String(row.index).padStart(3)}: ${row.regressed ? `REGRESSED (${row.regressions.join(', ')})` : 'passed'} · connect.total p50 ${p50}` +
    `${row.load === null ? '' : ` · load ${row.load.join('/')}`}${row.saturated ? ' · a run stayed saturated' : ''}${row.busier ? ' · machine busier on one side' : ''}`
  );
}

async function pair(ctx, kind, scenarioA, scenarioB, index) {
  const a = await herdRun(ctx, scenarioA, `${kind}-${index}-a`);
  const b = await herdRun(ctx, scenarioB, `${kind}-${index}-b`);
  const row = {
    kind,
    index,
    runs: [a.results, b.results],
    load: [a.loadAtStart, b.loadAtStart],
    saturated: a.saturated || b.saturated,
    ...(await compare(ctx, [a.results], [b.results])),
  };
  log(describe(row));
  return row;
}

/** Disjoint groups of `size` consecutive rounds: their base runs against their candidate runs. */
async function groups(ctx, rows, kind, size) {
  const mine = rows.filter((r) => r.kind === kind);
  const out = [];
  for (let i = 0; i + size <= mine.length; i += size) {
    const g = mine.slice(i, i + size);
    const row = {
      kind,
      index: `${g[0].index}–${g[g.length - 1].index}`,
      load: null,
      saturated: g.some((r) => r.saturated),
      ...(await compare(
        ctx,
        g.map((r) => r.runs[0]),
        g.map((r) => r.runs[1]),
      )),
    };
    log(`  ${size} vs ${size} ${describe(row)}`);
    out.push(row);
  }
  return out;
}

/** The runs of an earlier bench folder (the last attempt of each label), compared again with this build. */
async function fromEarlier(ctx, dir) {
  const last = new Map();
  for (const name of readdirSync(dir).sort()) {
    const m = /^\d+-(identical|cost1to3)-(\d+)-(a|b)$/.exec(name);
    const sub = m ? readdirSync(join(dir, name)) : [];
    if (m && sub.length > 0)
      last.set(`${m[1]}-${m[2]}-${m[3]}`, {
        path: join(dir, name, sub[0], 'results.json'),
        kind: m[1],
        index: Number(m[2]),
      });
  }
  const rows = [];
  for (const [key, a] of [...last]
    .filter(([k]) => k.endsWith('-a'))
    .sort((x, y) => x[1].index - y[1].index || x[1].kind.localeCompare(y[1].kind))) {
    const b = last.get(key.replace(/-a$/, '-b'));
    if (b === undefined) continue;
    const saturated = [a.path, b.path].some((p) => JSON.parse(readFileSync(p, 'utf8')).health.saturated === true);
    const row = {
      kind: a.kind,
      index: a.index,
      runs: [a.path, b.path],
      load: null,
      saturated,
      ...(await compare(ctx, [a.path], [b.path])),
    };
    log(describe(row));
    rows.push(row);
  }
  return rows;
}

function summarize(rows, kind) {
  const mine = rows.filter((r) => r.kind === kind);
  return {
    pairs: mine.length,
    regressed: mine.filter((r) => r.regressed).length,
    withSaturatedRun: mine.filter((r) => r.saturated).length,
    busier: mine.filter((r) => r.busier).length,
  };
}

async function main() {
  let o;
  try {
    o = parseFlags(process.argv.slice(2));
  } catch (err) {
    log(`compare-noise: ${err.message}`);
    return 2;
  }
  if (o.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const stamp = new Date().toISOString().replace(/[:]/g, '').replace(/\..*/, '');
  const outDir = resolve(repoRoot, o.out);
  const workDir = join(outDir, `compare-noise-${stamp}`);
  mkdirSync(workDir, { recursive: true });
  const ctx = {
    o,
    workDir,
    herd: o.from === null ? snapshotBuild(workDir) : join(repoRoot, 'bin/herd.js'),
    seq: 0,
    saturatedRuns: 0,
  };
  const deadline = Date.now() + o.maxMinutes * 60_000;
  const loadBefore = os.loadavg();
  const started = Date.now();
  let rows = [];
  const loads = [];
  if (o.from !== null) {
    rows = await fromEarlier(ctx, resolve(o.from));
  } else {
    const quick = join(repoRoot, 'scenarios/quickstart.yaml');
    const cost1 = costScenario(workDir, 1);
    const cost3 = costScenario(workDir, 3);
    for (let i = 1; i <= o.pairs; i++) {
      if (Date.now() > deadline) {
        log(`compare-noise: --max-minutes ${o.maxMinutes} reached after ${i - 1} rounds`);
        break;
      }
      loads.push(load1());
      rows.push(await pair(ctx, 'identical', quick, quick, i));
      rows.push(await pair(ctx, 'cost1to3', cost1, cost3, i));
    }
  }
  const grouped =
    o.group > 1
      ? [...(await groups(ctx, rows, 'identical', o.group)), ...(await groups(ctx, rows, 'cost1to3', o.group))]
      : [];
  const identical = summarize(rows, 'identical');
  const cost = summarize(rows, 'cost1to3');
  const gIdentical = summarize(grouped, 'identical');
  const gCost = summarize(grouped, 'cost1to3');
  const sorted = [...loads].sort((a, b) => a - b);
  const report = {
    bench: 'compare-noise',
    date: new Date().toISOString(),
    minutes: Math.round((Date.now() - started) / 600) / 100,
    machine: {
      cpus: os.availableParallelism(),
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      node: process.version,
      loadBefore,
      loadAfter: os.loadavg(),
    },
    options: o,
    saturatedRunsRerun: ctx.saturatedRuns,
    identical,
    cost1to3: cost,
    groups: { size: o.group, identical: gIdentical, cost1to3: gCost },
    rows,
    grouped,
  };
  const jsonPath = join(outDir, `compare-noise-${stamp}.json`);
  writeFileSync(jsonPath, JSON.stringify(report, null, 2) + '\n');
  const mid = sorted[Math.floor(sorted.length / 2)] ?? 0;
  const loadLine =
    o.from === null
      ? `machine: ${report.machine.cpus} × ${report.machine.cpuModel}; 1-min load average at the start of each round min ${sorted[0] ?? 0} · median ${mid} · max ${sorted[sorted.length - 1] ?? 0} (before ${loadBefore[0].toFixed(2)}, after ${os.loadavg()[0].toFixed(2)})`
      : `runs from ${o.from}, compared again with this build`;
  process.stdout.write(
    [
      '',
      `identical pairs reported as regressions: ${identical.regressed}/${identical.pairs}; handshakeCost 1→3 reported: ${cost.regressed}/${cost.pairs}`,
      ...(o.group > 1
        ? [
            `${o.group} runs per side (the same runs, disjoint groups): identical reported: ${gIdentical.regressed}/${gIdentical.pairs}; handshakeCost 1→3 reported: ${gCost.regressed}/${gCost.pairs}`,
          ]
        : []),
      loadLine,
      `runs herd flagged saturated${o.from === null ? ` (rerun up to ${o.retries}×): ${ctx.saturatedRuns}` : ''}; pairs still holding a saturated run: identical ${identical.withSaturatedRun}, 1→3 ${cost.withSaturatedRun}`,
      `pairs where compare noted the machine was busier on one side: identical ${identical.busier}, 1→3 ${cost.busier}`,
      `${report.minutes} minutes · written: ${jsonPath}`,
      '',
    ].join('\n'),
  );
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    log(`compare-noise: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(3);
  },
);
