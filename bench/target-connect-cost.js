#!/usr/bin/env node
/**
 * The embedded target's own CPU per MQTT connect + clean disconnect (issue 25), in the same run as a
 * reference measured in the same batches, each target in its own process on a loopback port.
 *
 * The client is a minimal loop in this process: raw TCP, a prebuilt MQTT 3.1.1 clean-session
 * CONNECT (a fresh client id per device), DISCONNECT on the CONNACK, then end. Devices start at a
 * fixed rate per target, spread over source addresses 127.0.0.10-127.0.0.59 to keep TIME_WAIT
 * tuples apart. The targets run side by side: every batch goes to all of them at once, device by
 * device in turn, so each meets the same machine at the same moment — on a shared machine the
 * absolute CPU per connect moves with the load by a factor of 2 or more, their ratio far less.
 * After a warm-up batch and a reading of each target's idle CPU, each repeat runs a batch of each
 * size; the CPU of a batch is the target process's utime + stime from /proc/<pid>/stat (10 ms
 * resolution) from just before the first connect to once every target has been quiet for a moment.
 * The cost per connect is marginal between the two sizes (what one more device costs, without the
 * fixed cost of a batch); also shown less the idle timers' share of the longer batch (the target's
 * 20 ms lag probe), and the kernel's part (stime). The ratio to each reference is taken per repeat,
 * then the median. CPU time is fair on a busy machine; rates are not judged. Asserts nothing.
 *
 * References: `bare` is aedes 1.2 alone (Aedes.createBroker() behind net.createServer, default
 * in-memory persistence, no gate, no front layer, no metrics); `--baseline <dir>` adds the embedded
 * target of another built checkout (e.g. the commit before a change: `git archive <commit> | tar -x`,
 * link node_modules, `npx tsc -p tsconfig.build.json`).
 *
 *   npx tsc -p tsconfig.build.json && node bench/target-connect-cost.js [--sizes 2000,6000] [--rate 300]
 *     [--repeats 3] [--targets embedded,bare] [--baseline <dir>]
 *
 * With HERD_BENCH_CPU_PROF=<dir> the embedded target writes a V8 CPU profile there when it stops.
 */
import { fork, spawn } from 'node:child_process';
import * as net from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { readFileSync } from 'node:fs';
import { endChild, freePort, procCpuUs, sleep, waitForListener } from './lib/procs.js';
import { embeddedFactory } from './lib/targets.js';
import { arg, runMain } from './lib/main.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const HOST = '127.0.0.1';
const sizes = String(arg('sizes', '2000,6000')).split(',').map(Number);
const ratePerS = Number(arg('rate', '300'));
const repeats = Number(arg('repeats', '3'));
const kinds = String(arg('targets', 'embedded,bare')).split(',');
/** Another checkout (built), whose embedded target runs as 'baseline': the code before a change. */
const baselineRoot = arg('baseline', null);
if (baselineRoot !== null && !kinds.includes('baseline')) kinds.push('baseline');
const WARMUP = 500;
const BATCH_TIMEOUT_MS = 120_000;
/** After the last close, the target finishes its own cleanup; wait until its CPU stops moving. */
const QUIET_MS = 300;
/** How long the target's idle CPU (its timers) is read for, between the warm-up and the batches. */
const IDLE_MS = 3_000;
const log = (m) => process.stderr.write(`${m}\n`);

const BARE_AEDES = `
import { Aedes } from 'aedes';
import * as net from 'node:net';
const aedes = await Aedes.createBroker();
aedes.on('clientError', () => {});
aedes.on('connectionError', () => {});
const server = net.createServer({ noDelay: true }, (s) => aedes.handle(s));
server.listen({ host: '${HOST}', port: Number(process.argv[1]), backlog: 4096 });
process.on('SIGTERM', () => process.exit(0));
`;

/** @returns {Promise<{ pid: number, port: number, stop(): Promise<void> }>} */
async function startTarget(kind) {
  if (kind === 'embedded') {
    const profDir = process.env.HERD_BENCH_CPU_PROF;
    if (profDir) return startProfiledEmbedded(profDir);
    const t = await embeddedFactory(repoRoot).start();
    return { pid: t.pid, port: t.port, stop: () => t.stop() };
  }
  if (kind === 'baseline') {
    const t = await embeddedFactory(resolve(baselineRoot)).start();
    return { pid: t.pid, port: t.port, stop: () => t.stop() };
  }
  const port = await freePort(HOST);
  const child = spawn(process.execPath, ['--input-type=module', '-e', BARE_AEDES, String(port)], {
    cwd: repoRoot,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitForListener(HOST, port, 10_000);
  return { pid: child.pid ?? -1, port, stop: () => endChild(child) };
}

/** The embedded target's entry forked as spawnEmbeddedTarget does, plus --cpu-prof (written when it stops). */
async function startProfiledEmbedded(profDir) {
  const { parseTargetOptions } = await import(pathToFileURL(join(repoRoot, 'dist/target/options.js')).href);
  const options = parseTargetOptions({}, 'target.embedded');
  const child = fork(join(repoRoot, 'dist/target/main.js'), [JSON.stringify({ index: 0, options })], {
    execArgv: ['--cpu-prof', `--cpu-prof-dir=${profDir}`],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const msg = await new Promise((ok) => child.once('message', ok));
  return { pid: child.pid ?? -1, port: msg.port, stop: () => endChild(child) };
}

/** MQTT 3.1.1 CONNECT, clean session, keepalive 60 s, no credentials. */
function connectPacket(clientId) {
  const id = Buffer.from(clientId);
  const variable = Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x02, 0, 60]);
  const remaining = variable.length + 2 + id.length;
  return Buffer.concat([Buffer.from([0x10, remaining]), variable, Buffer.from([id.length >> 8, id.length & 255]), id]);
}
const DISCONNECT = Buffer.from([0xe0, 0]);

let serial = 0;
/**
 * Connects and disconnects `n` devices on every port at once, ratePerS per port, the ports taking
 * turns device by device (so every target meets the same machine at the same moment). Resolves with
 * how many got a CONNACK per port and how long the batch took.
 */
function batch(ports, n) {
  return new Promise((resolveBatch, reject) => {
    let started = 0;
    let closed = 0;
    const total = n * ports.length;
    const acked = ports.map(() => 0);
    const t0 = performance.now();
    const one = (i) => {
      const s = net.connect({
        host: HOST,
        port: ports[i],
        localAddress: `127.0.0.${10 + (serial % 50)}`,
        noDelay: true,
      });
      const packet = connectPacket(`cost-${process.pid}-${serial++}`);
      s.once('connect', () => s.write(packet));
      s.once('data', (d) => {
        if (d[0] === 0x20 && d[3] === 0) acked[i]++;
        s.end(DISCONNECT);
      });
      s.on('error', () => {});
      s.once('close', () => {
        if (++closed === total) {
          clearInterval(tick);
          clearTimeout(guard);
          resolveBatch({ acked, seconds: (performance.now() - t0) / 1000 });
        }
      });
    };
    const tick = setInterval(() => {
      const due = Math.min(total, (Math.floor(((performance.now() - t0) * ratePerS) / 1000) + 1) * ports.length);
      while (started < due) one(started++ % ports.length);
    }, 5);
    const guard = setTimeout(() => {
      clearInterval(tick);
      reject(new Error(`batch of ${n} per target did not finish in ${BATCH_TIMEOUT_MS / 1000} s (${closed} closed)`));
    }, BATCH_TIMEOUT_MS);
  });
}

/** utime + stime and stime alone of a process, in µs (10 ms resolution). */
function cpuOf(pid) {
  const rest = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = rest.slice(rest.lastIndexOf(')') + 2).split(' ');
  return { cpuUs: (Number(f[11]) + Number(f[12])) * 1e4, sysUs: Number(f[12]) * 1e4 };
}

/** Waits until no target's CPU time moves for QUIET_MS (their cleanup after a batch is done). */
async function quiet(pids) {
  let last = pids.map((p) => procCpuUs(p)).join();
  for (let i = 0; i < 20; i++) {
    await sleep(QUIET_MS);
    const now = pids.map((p) => procCpuUs(p)).join();
    if (now === last) break;
    last = now;
  }
  return pids.map(cpuOf);
}

async function main() {
  const [small, large] = sizes;
  const targets = [];
  try {
    for (const kind of kinds) targets.push({ kind, ...(await startTarget(kind)) });
    const ports = targets.map((t) => t.port);
    const pids = targets.map((t) => t.pid);
    await batch(ports, WARMUP);
    const idleFrom = await quiet(pids);
    await sleep(IDLE_MS);
    const idleUsPerS = pids.map((p, i) => ((cpuOf(p).cpuUs - idleFrom[i].cpuUs) * 1000) / IDLE_MS);
    log(`idle: ${kinds.map((k, i) => `${k} ${(idleUsPerS[i] / 1000).toFixed(1)} ms/s`).join(', ')}`);
    /** Per repeat, per target: µs per connect (raw, less the idle share, kernel part). */
    const rows = [];
    for (let r = 0; r < repeats; r++) {
      const got = {};
      for (const n of sizes) {
        const before = await quiet(pids);
        const b = await batch(ports, n);
        const after = await quiet(pids);
        got[n] = {
          seconds: b.seconds,
          cpu: after.map((a, i) => ({ cpuUs: a.cpuUs - before[i].cpuUs, sysUs: a.sysUs - before[i].sysUs })),
        };
        log(
          `  repeat ${r + 1}, ${n} per target in ${b.seconds.toFixed(1)} s: ` +
            kinds
              .map((k, i) => `${k} ${(got[n].cpu[i].cpuUs / 1e6).toFixed(2)} s CPU, ${b.acked[i]} CONNACKs`)
              .join('; '),
        );
      }
      const row = kinds.map((k, i) => {
        const raw = (got[large].cpu[i].cpuUs - got[small].cpu[i].cpuUs) / (large - small);
        const sys = (got[large].cpu[i].sysUs - got[small].cpu[i].sysUs) / (large - small);
        // The longer batch also runs the target's timers longer: that share is not a connect's.
        const idle = (idleUsPerS[i] * (got[large].seconds - got[small].seconds)) / (large - small);
        return { raw, busy: raw - idle, sys };
      });
      log(
        `repeat ${r + 1}: ` +
          kinds.map((k, i) => `${k} ${row[i].raw.toFixed(0)} µs (kernel ${row[i].sys.toFixed(0)})`).join(', '),
      );
      rows.push(row);
    }
    report(rows, small, large);
    return 0;
  } finally {
    for (const t of targets) await t.stop();
  }
}

function report(rows, small, large) {
  const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const col = (i, key) => rows.map((row) => row[i][key]);
  console.log(
    `\ntarget CPU per MQTT connect + clean disconnect, marginal ${small}→${large} per target, ` +
      `${ratePerS}/s each, targets side by side (${repeats} repeats):`,
  );
  kinds.forEach((k, i) => {
    const us = (xs) => xs.map((x) => x.toFixed(0)).join(', ');
    console.log(
      `  ${k.padEnd(9)} median ${med(col(i, 'raw')).toFixed(0)} µs  [${us(col(i, 'raw'))}]` +
        `  less the idle timers' share: ${med(col(i, 'busy')).toFixed(0)} µs  kernel: ${med(col(i, 'sys')).toFixed(0)} µs`,
    );
  });
  const e = kinds.indexOf('embedded');
  for (const ref of ['bare', 'baseline']) {
    const j = kinds.indexOf(ref);
    if (e === -1 || j === -1) continue;
    const ratios = rows.map((row) => row[e].raw / row[j].raw);
    console.log(
      `  embedded / ${ref} (per repeat, then median): ${med(ratios).toFixed(2)}  [${ratios.map((x) => x.toFixed(2)).join(', ')}]`,
    );
  }
}

runMain('target-connect-cost', main);
