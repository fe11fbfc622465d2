/**
 * Runs the built herd CLI (bin/herd.js → dist/) as a child process for one measurement and turns
 * its results.json and the probe samples of its processes into bench figures:
 * - handshakes: attempts, errors, saturation, and the completed rate over the wave;
 * - CPU: user+system time of the coordinator and all workers from the run origin to the last
 *   CONNACK (the connect phase), divided by the handshakes that succeeded;
 * - memory: per worker, RSS (and heap, external) while every session is held and idle, minus the
 *   same figure just before the origin, summed and divided by the sessions held.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { median, procCpuUs } from './procs.js';

/** Start-up, teardown (up to the 3 s close grace) and report writing, beyond the plan's own length. */
const RUN_SLACK_MS = 40_000;
/** CPU is read up to this long after the last CONNACK (one probe interval). */
const CPU_TAIL_MS = 100;
const COL = { t: 0, user: 1, sys: 2, rss: 3, heapUsed: 4, heapTotal: 5, external: 6, arrayBuffers: 7 };

/**
 * @typedef {object} HerdRunSpec
 * @property {string} repoRoot       the herd build to run (bin/, dist/)
 * @property {string} probePath      bench/lib/probe.js
 * @property {string} runDir         a fresh folder for this run's files
 * @property {import('./targets.js').Target} target
 * @property {number} devices
 * @property {number} ratePerS       offered rate (open model)
 * @property {number} holdMs         idle hold after the wave, before teardown
 * @property {number} workers
 * @property {number} maxHandshakes  0 = no cap (open model)
 * @property {string[]} sources      source addresses
 * @property {number} timeoutMs      hard bound on the whole child run
 * @property {boolean} [gcSamples]   force a GC for the 'go' and 'held' memory samples (memory runs)
 * @property {'js' | 'native'} [engine]  device.engine of the scenario (default js)
 * @property {Record<string, string>} [env]  extra environment for herd's processes (e.g. HERD_BENCH_HEAP_SNAPSHOT)
 * @property {string} [publish]  device.publish of the scenario as a YAML flow map (a telemetry fleet), none unless given
 * @property {string[]} [deviceLines]  more `device:` fields of the scenario, as YAML lines (e.g. 'dnsTtl: 0s')
 * @property {number} [heldDelayMs]  the 'held' sample waits this long after every session is open (telemetry: a
 *   publish interval or two, so every device has published and its delivery stream exists)
 */

/** Scenario for one measurement: one `rate` wave of exactly `devices`, then an idle hold. */
export function benchScenario(devices, ratePerS, holdMs, engine = 'js', publish = undefined, deviceLines = []) {
  // The schema derives devices = rate × over, so pick `over` and recompute devices from it.
  const overMs = Math.max(1, Math.round((devices / ratePerS) * 1000));
  const planned = Math.round(ratePerS * (overMs / 1000));
  const yaml = [
    `name: bench-${planned}-at-${ratePerS}`,
    'target: embedded',
    'seed: 1',
    `devices: ${planned}`,
    'device:',
    '  protocol: mqtt',
    '  mqttVersion: 3.1.1',
    '  clientId: "b{run}-{id}"',
    // Long keepalive: the hold must be idle (no PINGREQ) for the memory figure.
    '  keepalive: 600s',
    '  connectTimeout: 10s',
    `  engine: ${engine}`,
    ...(publish === undefined ? [] : [`  publish: ${publish}`]),
    ...deviceLines.map((l) => `  ${l}`),
    'waves:',
    `  - type: rate`,
    `    rate: ${ratePerS}`,
    `    over: ${overMs}ms`,
    `hold: ${holdMs}ms`,
    '',
  ].join('\n');
  return { yaml, overMs, planned };
}

/** @param {HerdRunSpec} s */
export async function runHerd(s) {
  const { yaml, overMs, planned } = benchScenario(
    s.devices,
    s.ratePerS,
    s.holdMs,
    s.engine ?? 'js',
    s.publish,
    s.deviceLines ?? [],
  );
  const probeDir = join(s.runDir, 'probe');
  mkdirSync(probeDir, { recursive: true });
  const scenarioPath = join(s.runDir, 'scenario.yaml');
  writeFileSync(scenarioPath, yaml);
  const args = [
    join(s.repoRoot, 'bin/herd.js'),
    'run',
    scenarioPath,
    '--target',
    s.target.url,
    '--workers',
    String(s.workers),
    '--source-ips',
    s.sources.join(','),
    '--out',
    join(s.runDir, 'reports'),
    '--quiet',
    '--allow-saturated',
  ];
  if (s.maxHandshakes > 0) args.push('--max-handshakes', String(s.maxHandshakes));
  const probeUrl = pathToFileURL(s.probePath).href;
  const nodeOptions = [process.env.NODE_OPTIONS ?? '', `--import=${probeUrl}`, s.gcSamples ? '--expose-gc' : '']
    .join(' ')
    .trim();
  const env = { ...process.env, ...(s.env ?? {}), NODE_OPTIONS: nodeOptions, HERD_BENCH_PROBE_DIR: probeDir };
  const targetCpu0 = procCpuUs(s.target.pid);
  const watch = s.gcSamples ? watchHeld(probeDir, planned, s.heldDelayMs ?? 0) : null;
  const { code, stdout, stderr } = await runChild(
    process.execPath,
    args,
    env,
    Math.min(s.timeoutMs, overMs + s.holdMs + RUN_SLACK_MS),
  ).finally(() => watch?.stop());
  const targetCpu1 = procCpuUs(s.target.pid);
  writeFileSync(join(s.runDir, 'herd.log'), `exit ${code}\n--- stdout\n${stdout}\n--- stderr\n${stderr}\n`);
  const m = /results: (.+results\.json)/.exec(stdout);
  if (m === null)
    throw new Error(
      `herd run gave no results (exit ${code}); see ${join(s.runDir, 'herd.log')}: ${stderr.trim().slice(0, 400)}`,
    );
  const results = JSON.parse(readFileSync(m[1], 'utf8'));
  const probes = readProbes(probeDir);
  return summarise({
    results,
    probes,
    overMs,
    planned,
    code,
    targetCpuUs: targetCpu0 !== null && targetCpu1 !== null ? targetCpu1 - targetCpu0 : null,
    spec: s,
  });
}

export function runChild(cmd, args, env, timeoutMs) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d.toString()));
    child.stderr.on('data', (d) => {
      if (stderr.length < 64_000) stderr += d.toString();
    });
    // Bounded: SIGINT lets herd write a partial report; SIGKILL if it does not leave.
    const soft = setTimeout(() => child.kill('SIGINT'), timeoutMs);
    const hard = setTimeout(() => child.kill('SIGKILL'), timeoutMs + 15_000);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(soft);
      clearTimeout(hard);
      resolve({ code: code ?? signal, stdout, stderr });
    });
  });
}

/**
 * Signals the workers (SIGUSR2, read by the probe) once all `planned` sessions are open, or once
 * the open-socket count has stopped growing for a second after reaching 90% of them. It counts
 * the workers' descriptors from /proc, so the waiting costs herd nothing. With `delayMs`, that
 * long later (a telemetry fleet publishes in between).
 */
function watchHeld(probeDir, planned, delayMs) {
  /** @type {Map<number, number>} pid → descriptors at first sight (before connecting) */
  const baseline = new Map();
  let lastSum = -1;
  let stableSinceMs = 0;
  let sent = false;
  /** @type {number | null} */
  let signalAt = null;
  // One stat where the kernel counts (Linux ≥ 6.2): listing 7,500 descriptors five times a second
  // took ~5% of a core from the storm it watches, which the C reference's runs never pay.
  const countFds = (pid) => {
    try {
      const n = statSync(`/proc/${pid}/fd`).size;
      return n > 0 ? n : readdirSync(`/proc/${pid}/fd`).length;
    } catch {
      return null;
    }
  };
  /** @type {number[]} */
  let heldPids = [];
  const signal = () => {
    for (const pid of heldPids) {
      try {
        process.kill(pid, 'SIGUSR2');
      } catch {
        // It has gone already: its probe has no 'held' sample and the bench says so.
      }
    }
  };
  const timer = setInterval(() => {
    if (signalAt !== null && Date.now() >= signalAt) {
      signalAt = null;
      signal();
    }
    if (sent) return;
    let pids;
    try {
      pids = readdirSync(probeDir)
        .filter((f) => f.startsWith('pid-'))
        .map((f) => JSON.parse(readFileSync(join(probeDir, f), 'utf8')))
        .filter((p) => p.role === 'worker')
        .map((p) => p.pid);
    } catch {
      return;
    }
    let sum = 0;
    for (const pid of pids) {
      const n = countFds(pid);
      if (n === null) continue;
      if (!baseline.has(pid)) baseline.set(pid, n);
      sum += n - (baseline.get(pid) ?? n);
    }
    const now = Date.now();
    if (sum !== lastSum) {
      lastSum = sum;
      stableSinceMs = now;
    }
    if (sum >= planned || (sum >= 0.9 * planned && now - stableSinceMs >= 1000)) {
      sent = true;
      heldPids = pids;
      if (delayMs > 0) signalAt = now + delayMs;
      else signal();
    }
  }, 200);
  return { stop: () => clearInterval(timer) };
}

export function readProbes(dir) {
  return readdirSync(dir)
    .filter((f) => f.startsWith('probe-') && f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')))
    .filter((p) => p.role === 'worker' || p.role === 'coordinator');
}

/**
 * CPU µs of one probed process at wall time tMs, interpolated between samples: user + system, or
 * with `kernelOnly` the system (kernel) time alone.
 */
export function cpuAt(samples, tMs, kernelOnly = false) {
  const at = (x) => (kernelOnly ? 0 : x[COL.user]) + x[COL.sys];
  let prev = samples[0];
  for (const x of samples) {
    if (x[COL.t] >= tMs) {
      if (x === prev || x[COL.t] === prev[COL.t]) return at(x);
      const f = (tMs - prev[COL.t]) / (x[COL.t] - prev[COL.t]);
      return at(prev) + f * (at(x) - at(prev));
    }
    prev = x;
  }
  return at(prev);
}

function memoryDelta(samples, originMs, heldFromMs, heldToMs) {
  const before = samples.filter((x) => x[COL.t] <= originMs).at(-1) ?? samples[0];
  const held = samples.filter((x) => x[COL.t] >= heldFromMs && x[COL.t] < heldToMs);
  if (held.length === 0) return null;
  const d = (col) => median(held.map((x) => x[col])) - before[col];
  return {
    rss: d(COL.rss),
    heapUsed: d(COL.heapUsed),
    heapTotal: d(COL.heapTotal),
    external: d(COL.external),
    arrayBuffers: d(COL.arrayBuffers),
    rssHeld: median(held.map((x) => x[COL.rss])),
  };
}

/** herd's own limit for event-loop delay p99 in one second (src/metrics/saturation.ts DEFAULT_LIMITS). */
const LOOP_DELAY_LIMIT_US = 200_000;

/**
 * Whether the harness was saturated while it was connecting, as opposed to only during teardown.
 * herd ends every session in one synchronous loop at teardown, which blocks its event loop for
 * ~0.1 ms per session and can flag the run even though every handshake was measured before. Any
 * reason other than event-loop delay counts as saturation wherever it happened (the per-worker
 * samples behind it are not in results.json); event-loop delay counts only in seconds that ended
 * before teardown began.
 */
function saturatedBeforeTeardown(results) {
  if (!results.health.saturated) return false;
  if (results.health.reasons.some((r) => !/event-loop delay p99/.test(r))) return true;
  const teardownUs = results.scenario.durationUs;
  return results.timeline.buckets.some(
    (b) => (b.t + 1) * 1e6 <= teardownUs && (b.loopDelayP99Us ?? 0) > LOOP_DELAY_LIMIT_US,
  );
}

function summarise({ results, probes, overMs, planned, code, targetCpuUs, spec }) {
  const a = results.attempts;
  const total = results.latency['connect.total'] ?? null;
  const lag = results.latency['connect.scheduleLag'] ?? null;
  const tcp = results.latency['phase.tcpConnect'] ?? null;
  const dns = results.latency['phase.dns'] ?? null;
  const originMs = Date.parse(results.run.startedAt);
  const teardownMs = originMs + results.scenario.durationUs / 1000;
  const errors = a.failed + a.timedOut + a.dropped + a.inFlightAtEnd;
  const p99Us = total?.p99Us ?? 0;
  const disconnects = results.timeline.buckets.reduce((n, b) => n + b.disconnects, 0);
  const held = a.succeeded - disconnects;

  // The connect phase only: from the origin to the last CONNACK (the wave plus its slowest
  // attempt) and one probe interval more, so the idle hold's timers do not dilute the figure.
  const connectEndMs = Math.min(teardownMs, originMs + overMs + (total?.maxUs ?? 0) / 1000 + CPU_TAIL_MS);
  let cpuUs = 0;
  let kernelUs = 0;
  for (const p of probes) {
    cpuUs += cpuAt(p.samples, connectEndMs) - cpuAt(p.samples, originMs);
    kernelUs += cpuAt(p.samples, connectEndMs, true) - cpuAt(p.samples, originMs, true);
  }
  // Memory is read in the second half of the hold: every session is open and idle by then.
  const heldFromMs = originMs + overMs + Math.max(spec.holdMs / 2, (total?.maxUs ?? 0) / 1000);
  const mem = { rss: 0, heapUsed: 0, heapTotal: 0, external: 0, arrayBuffers: 0, rssHeld: 0 };
  let memSamples = 0;
  const workers = probes.filter((p) => p.role === 'worker');
  for (const p of workers) {
    const d = memoryDelta(p.samples, originMs, heldFromMs, teardownMs);
    if (d === null) continue;
    memSamples++;
    for (const k of Object.keys(mem)) mem[k] += d[k];
  }
  // The end of the hold, without a forced GC: what an idle hold settles to (V8 gives back the
  // young generation and compacts old space on its own ~30 s after the storm).
  let endRss = 0;
  for (const p of workers) {
    const d = memoryDelta(p.samples, originMs, teardownMs - 2_000, teardownMs);
    if (d !== null) endRss += d.rss;
  }
  const perHeld = (x) => (held > 0 && memSamples === workers.length && memSamples > 0 ? x / held : null);
  // After a forced GC at 'go' and at 'held': the live cost, free of uncollected garbage.
  const gcOk = workers.length > 0 && workers.every((p) => p.tagged?.go && p.tagged?.held);
  const gcDelta = (col) =>
    gcOk && held > 0 ? workers.reduce((n, p) => n + p.tagged.held[col] - p.tagged.go[col], 0) / held : null;
  return {
    exitCode: code,
    runId: results.run.id,
    workers: results.run.workers,
    maxHandshakesPerWorker: spec.maxHandshakes,
    sourceAddresses: spec.sources.length,
    offeredPerS: spec.ratePerS,
    overMs,
    planned,
    attempts: a,
    errorCount: errors,
    errorRate: a.planned > 0 ? errors / a.planned : 1,
    errors: results.errors,
    accountingBalanced: results.accounting.balanced,
    saturated: results.health.saturated,
    saturationReasons: results.health.reasons,
    saturatedBeforeTeardown: saturatedBeforeTeardown(results),
    // Completed rate over the wave plus its p99 tail: conservative, and it collapses when SYNs are
    // retried (1 s steps) or the harness lags behind its plan.
    completedPerS: a.succeeded / ((overMs * 1000 + p99Us) / 1e6),
    // Up to the last CONNACK (the slowest attempt): the definition the C reference uses.
    completedAllPerS: a.succeeded / ((overMs * 1000 + (total?.maxUs ?? 0)) / 1e6),
    connectTotalUs: total === null ? null : { p50: total.p50Us, p99: total.p99Us, max: total.maxUs },
    tcpConnectUs: tcp === null ? null : { p50: tcp.p50Us, p99: tcp.p99Us, max: tcp.maxUs },
    dnsUs: dns === null ? null : { count: dns.count, p50: dns.p50Us, p99: dns.p99Us },
    scheduleLagMaxUs: lag?.maxUs ?? null,
    cpu: {
      processes: probes.length,
      /** The connect phase's window (wall clock, ms since the epoch): origin + windowMs. */
      originMs,
      windowMs: Math.round(connectEndMs - originMs),
      totalUs: Math.round(cpuUs),
      usPerConnection: a.succeeded > 0 && probes.length > 0 ? cpuUs / a.succeeded : null,
      /** Of which kernel time: the system calls and the loopback handshake they run. */
      kernelUsPerConnection: a.succeeded > 0 && probes.length > 0 ? kernelUs / a.succeeded : null,
    },
    targetCpuUsPerConnection: targetCpuUs !== null && a.succeeded > 0 ? targetCpuUs / a.succeeded : null,
    memory: {
      held,
      workersMeasured: memSamples,
      rssBytesPerConnection: perHeld(mem.rss),
      endOfHoldRssBytesPerConnection: perHeld(endRss),
      heapUsedBytesPerConnection: perHeld(mem.heapUsed),
      heapTotalBytesPerConnection: perHeld(mem.heapTotal),
      externalBytesPerConnection: perHeld(mem.external),
      arrayBuffersBytesPerConnection: perHeld(mem.arrayBuffers),
      rssHeldBytes: mem.rssHeld,
      afterGc: gcOk
        ? {
            rssBytesPerConnection: gcDelta(COL.rss),
            heapUsedBytesPerConnection: gcDelta(COL.heapUsed),
            heapTotalBytesPerConnection: gcDelta(COL.heapTotal),
            externalBytesPerConnection: gcDelta(COL.external),
            // RSS not explained by the V8 heap's committed size or by external memory: native
            // objects (libuv handles, socket wraps) and malloc fragmentation.
            nativeBytesPerConnection: gcDelta(COL.rss) - gcDelta(COL.heapTotal) - gcDelta(COL.external),
            ...detailDelta(workers, held),
          }
        : null,
    },
    // What the runner sets up per planned device before the origin (go − pre-go, after GC).
    setupPerDevice:
      workers.every((p) => p.tagged?.['pre-go'] && p.tagged?.go) && planned > 0
        ? {
            rssBytes: workers.reduce((n, p) => n + p.tagged.go[COL.rss] - p.tagged['pre-go'][COL.rss], 0) / planned,
            heapUsedBytes:
              workers.reduce((n, p) => n + p.tagged.go[COL.heapUsed] - p.tagged['pre-go'][COL.heapUsed], 0) / planned,
            externalBytes:
              workers.reduce((n, p) => n + p.tagged.go[COL.external] - p.tagged['pre-go'][COL.external], 0) / planned,
          }
        : null,
    // End-to-end counts of a telemetry fleet (null without device.publish).
    delivery:
      results.delivery === null || results.delivery === undefined
        ? null
        : { sent: results.delivery.sent, delivered: results.delivery.delivered, lost: results.delivery.lost },
    heapSnapshots: workers.map((p) => p.detail?.held?.heapSnapshot).filter((x) => typeof x === 'string'),
  };
}

/**
 * The probe's breakdown, 'held' − 'go' summed over workers, per held session: glibc malloc (bytes
 * in use, and arena + mmapped: what malloc holds from the kernel), smaps (anonymous memory, RSS)
 * and each V8 heap space's resident size.
 */
function detailDelta(workers, held) {
  const ok = workers.every((p) => p.detail?.go && p.detail?.held);
  if (!ok || held <= 0) return {};
  const sum = (get) => workers.reduce((n, p) => n + (get(p.detail.held) ?? 0) - (get(p.detail.go) ?? 0), 0) / held;
  const out = {
    smapsAnonymousBytesPerConnection: sum((d) => d.smaps?.Anonymous),
    heapSpacesPhysicalBytesPerConnection: Object.fromEntries(
      Object.keys(workers[0].detail.held.heapSpaces ?? {}).map((k) => [k, sum((d) => d.heapSpaces?.[k]?.physical)]),
    ),
  };
  if (workers.every((p) => p.detail.held.malloc && p.detail.go.malloc)) {
    out.mallocInUseBytesPerConnection = sum((d) => d.malloc.inUseBytes);
    out.mallocHeldBytesPerConnection = sum((d) => d.malloc.arenaBytes + d.malloc.mmappedBytes);
  }
  return out;
}
