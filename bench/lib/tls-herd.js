/**
 * One herd run of the TLS bench: `herd run` (the CLI, the real Coordinator path) with one worker
 * against the TLS listener, probed like every bench run (bench/lib/probe.js). The scenario is a
 * `rate` wave of full handshakes; with `reconnectWave` an outage (clean MQTT DISCONNECT) follows
 * 1 s later and every device reconnects, spread uniformly over the wave's length (fixed delay with
 * full jitter) — offering its cached session when `resume` is 1. With `closedLoop` the devices come
 * as one spike under `--max-handshakes 1` instead: one handshake at a time, the next started as
 * soon as one ends — the shape of `openssl s_time`'s loop.
 *
 * CPU (user + system, coordinator + worker) is read from the probe samples over two windows:
 * the wave (origin → the outage's start, or the same span without one) and the reconnects (the
 * outage's start → its last reconnect + 1 s). The bench takes the difference between two device
 * counts, so start-up, the idle tail of each window and teardown cancel.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cpuAt, readProbes, runChild } from './herd.js';

const GAP_MS = 1000;

/**
 * @typedef {object} TlsHerdSpec
 * @property {string} repoRoot
 * @property {string} runDir
 * @property {string} url          mqtts://127.0.0.1:PORT
 * @property {string} ca           CA file the devices trust
 * @property {'TLSv1.2' | 'TLSv1.3'} version
 * @property {number} devices
 * @property {number} ratePerS
 * @property {0 | 1} resume        device.tls.resume
 * @property {boolean} reconnectWave
 * @property {boolean} [closedLoop]
 * @property {'js' | 'native'} [engine]  device.engine (default js)
 * @property {boolean} [plain]     no TLS (the url is mqtt://): the same run's plain-TCP baseline
 */

/** @param {TlsHerdSpec} s */
export function tlsScenario(s) {
  const overMs = Math.round((s.devices / s.ratePerS) * 1000);
  // A closed loop's spike is done after ~1–2 ms a device here: 3 ms leaves room on a loaded machine.
  const outageAtMs = (s.closedLoop ? s.devices * 3 : overMs) + GAP_MS;
  const lines = [
    `name: bench-tls-${s.devices}`,
    `target: ${s.url}`,
    'seed: 1',
    `devices: ${s.devices}`,
    'device:',
    '  protocol: mqtt',
    '  mqttVersion: 3.1.1',
    '  clientId: "t{run}-{id}"',
    '  keepalive: 600s',
    // A closed loop starts its last device long after the spike's instant: never count it late.
    `  connectTimeout: ${s.closedLoop ? '60s' : '10s'}`,
    `  engine: ${s.engine ?? 'js'}`,
  ];
  if (!s.plain)
    lines.push(
      `  tls: { ca: ${JSON.stringify(s.ca)}, minVersion: ${s.version}, maxVersion: ${s.version}, resume: ${s.resume} }`,
    );
  // A closed loop's reconnects all come at once and the cap of 1 takes them one at a time.
  if (s.reconnectWave)
    lines.push(
      `reconnect: { policy: fixed, delay: ${s.closedLoop ? 1 : overMs}ms, jitter: ${s.closedLoop ? 'none' : 'full'} }`,
    );
  lines.push(
    'waves:',
    s.closedLoop ? '  - { type: spike }' : `  - { type: rate, rate: ${s.ratePerS}, over: ${overMs}ms }`,
  );
  if (s.reconnectWave)
    lines.push(`  - { type: outage, at: ${outageAtMs}ms, share: 1, mode: disconnect, offline: 1ms }`);
  // Long enough for the last reconnect (at most `overMs` after the outage) and its handshake.
  // A closed loop needs its spike's devices done before teardown (~1–2 ms each here; 4 ms is ample).
  const holdMs = s.closedLoop ? s.devices * 4 + GAP_MS : s.reconnectWave ? overMs + 1500 : GAP_MS;
  lines.push(`hold: ${holdMs}ms`, '');
  return { yaml: lines.join('\n'), overMs, outageAtMs, reconnectEndMs: outageAtMs + 1 + overMs + GAP_MS };
}

/** When a closed loop's last reconnect got its CONNACK, ms from origin, plus one probe interval. */
function closedReconnectEndMs(results, outageAtMs) {
  const o = results.outages[0];
  if (o === undefined || o.recovery.p100Us === null) return outageAtMs;
  return (o.atUs + o.offlineUs + o.recovery.p100Us) / 1000 + 100;
}

/** @param {TlsHerdSpec} s */
export async function runHerdTls(s) {
  const { yaml, outageAtMs, reconnectEndMs } = tlsScenario(s);
  const probeDir = join(s.runDir, 'probe');
  mkdirSync(probeDir, { recursive: true });
  const scenarioPath = join(s.runDir, 'scenario.yaml');
  writeFileSync(scenarioPath, yaml);
  const args = [
    join(s.repoRoot, 'bin/herd.js'),
    'run',
    scenarioPath,
    '--workers',
    '1',
    '--out',
    join(s.runDir, 'reports'),
    '--quiet',
    '--allow-saturated',
  ];
  if (s.closedLoop) args.push('--max-handshakes', '1');
  const probeUrl = pathToFileURL(join(s.repoRoot, 'bench/lib/probe.js')).href;
  const env = {
    ...process.env,
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${probeUrl}`.trim(),
    HERD_BENCH_PROBE_DIR: probeDir,
  };
  const { code, stdout, stderr } = await runChild(process.execPath, args, env, reconnectEndMs + 120_000);
  writeFileSync(join(s.runDir, 'herd.log'), `exit ${code}\n--- stdout\n${stdout}\n--- stderr\n${stderr}\n`);
  const m = /results: (.+results\.json)/.exec(stdout);
  if (m === null)
    throw new Error(
      `herd run gave no results (exit ${code}); see ${join(s.runDir, 'herd.log')}: ${stderr.trim().slice(0, 400)}`,
    );
  const results = JSON.parse(readFileSync(m[1], 'utf8'));
  const probes = readProbes(probeDir);
  const originMs = Date.parse(results.run.startedAt);
  const cpuBetween = (fromMs, toMs) =>
    probes.reduce((n, p) => n + cpuAt(p.samples, originMs + toMs) - cpuAt(p.samples, originMs + fromMs), 0);
  const a = results.attempts;
  const full = results.latency['phase.tlsFull']?.count ?? 0;
  const resumed = results.latency['phase.tlsResumed']?.count ?? 0;
  return {
    exitCode: code,
    processes: probes.length,
    devices: a.planned,
    reconnects: a.reconnects,
    succeeded: a.succeeded,
    problems: a.failed + a.timedOut + a.dropped + a.inFlightAtEnd + a.offline,
    balanced: results.accounting.balanced,
    saturated: results.health.saturated,
    fullHandshakes: full,
    resumedHandshakes: resumed,
    // A closed loop's wave ends with its last CONNACK (plus one probe interval); without reconnects
    // that is the longest connect.total, its last device's, all intended at 0.
    waveCpuUs: s.closedLoop
      ? s.reconnectWave
        ? null
        : cpuBetween(0, (results.latency['connect.total']?.maxUs ?? 0) / 1000 + 100)
      : cpuBetween(0, outageAtMs),
    // A closed loop's reconnects end when the last device is back (plus one probe interval).
    reconnectCpuUs: !s.reconnectWave
      ? null
      : s.closedLoop
        ? cpuBetween(outageAtMs, closedReconnectEndMs(results, outageAtMs))
        : cpuBetween(outageAtMs, reconnectEndMs),
    // The connect path the cohort took (herd falls back to js with a notice where native cannot go).
    ranOn: Object.values(results.run.engines ?? {}).join('/') || 'js',
  };
}
