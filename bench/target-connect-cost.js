#!/usr/bin/env node
/**
 * The embedded target's own CPU per MQTT connect + clean disconnect (issue 25), in the same run as a
 * reference: aedes 1.2 bare (Aedes.createBroker() behind net.createServer, default in-memory
 * persistence, no gate, no front layer, no metrics), each in its own process on a loopback port.
 *
 * The client is a minimal loop in this process: raw TCP, a prebuilt MQTT 3.1.1 clean-session
 * CONNECT (a fresh client id per device), DISCONNECT on the CONNACK, then end. Devices start at a
 * fixed rate, spread over source addresses 127.0.0.10-127.0.0.59 to keep TIME_WAIT tuples apart.
 * Each target process gets a warm-up batch, then batches of each size in turn; the CPU of a batch is
 * the target process's utime + stime from /proc/<pid>/stat (10 ms resolution) from just before the
 * first connect to once every connection has closed and the target has been quiet for a moment.
 * The cost per connect is marginal between the two sizes (what one more device costs, without the
 * fixed cost of a batch). CPU time is fair on a busy machine; the rate achieved is printed, not
 * judged. Prints figures and the ratio embedded / bare; asserts nothing.
 *
 *   npx tsc -p tsconfig.build.json && node bench/target-connect-cost.js [--sizes 1000,3000] [--rate 300]
 *     [--repeats 2] [--targets embedded,bare] [--baseline <another built checkout, e.g. of main>]
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
const sizes = String(arg('sizes', '1000,3000')).split(',').map(Number);
const ratePerS = Number(arg('rate', '300'));
const repeats = Number(arg('repeats', '2'));
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
/** Connects and disconnects `n` devices at ratePerS; resolves with how many got a CONNACK. */
function batch(port, n) {
  return new Promise((resolveBatch, reject) => {
    let started = 0;
    let closed = 0;
    let acked = 0;
    const t0 = performance.now();
    const one = () => {
      const s = net.connect({ host: HOST, port, localAddress: `127.0.0.${10 + (serial % 50)}`, noDelay: true });
      const packet = connectPacket(`cost-${process.pid}-${serial++}`);
      s.once('connect', () => s.write(packet));
      s.once('data', (d) => {
        if (d[0] === 0x20 && d[3] === 0) acked++;
        s.end(DISCONNECT);
      });
      s.on('error', () => {});
      s.once('close', () => {
        if (++closed === n) {
          clearInterval(tick);
          clearTimeout(guard);
          resolveBatch({ acked, seconds: (performance.now() - t0) / 1000 });
        }
      });
    };
    const tick = setInterval(() => {
      const due = Math.min(n, Math.floor(((performance.now() - t0) * ratePerS) / 1000) + 1);
      while (started < due) {
        started++;
        one();
      }
    }, 5);
    const guard = setTimeout(() => {
      clearInterval(tick);
      reject(new Error(`batch of ${n} did not finish in ${BATCH_TIMEOUT_MS / 1000} s (${closed} closed)`));
    }, BATCH_TIMEOUT_MS);
  });
}

/** Kernel-mode CPU (stime) of a process in µs: the share of the cost spent in system calls. */
function procStimeUs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[12]) * 1e4;
}

async function quietCpu(pid) {
  let last = procCpuUs(pid);
  for (let i = 0; i < 20; i++) {
    await sleep(QUIET_MS);
    const now = procCpuUs(pid);
    if (now === last) return now;
    last = now;
  }
  return last;
}

async function measure(kind) {
  const t = await startTarget(kind);
  try {
    await batch(t.port, WARMUP);
    const idleFrom = await quietCpu(t.pid);
    await sleep(IDLE_MS);
    const out = { idleUsPerS: ((procCpuUs(t.pid) - idleFrom) * 1000) / IDLE_MS };
    for (const n of sizes) {
      const before = await quietCpu(t.pid);
      const sysBefore = procStimeUs(t.pid);
      const r = await batch(t.port, n);
      const after = await quietCpu(t.pid);
      out[n] = { cpuUs: after - before, sysUs: procStimeUs(t.pid) - sysBefore, ...r };
      log(`  ${kind} ${n}: ${((after - before) / 1e6).toFixed(2)} s CPU, ${r.acked} CONNACKs, ${r.seconds.toFixed(1)} s`);
    }
    return out;
  } finally {
    await t.stop();
  }
}

async function main() {
  const [small, large] = sizes;
  const per = Object.fromEntries(kinds.map((k) => [k, []]));
  const perBusy = Object.fromEntries(kinds.map((k) => [k, []]));
  for (let r = 0; r < repeats; r++) {
    for (const kind of kinds) {
      const m = await measure(kind);
      const marginal = (m[large].cpuUs - m[small].cpuUs) / (large - small);
      const sys = (m[large].sysUs - m[small].sysUs) / (large - small);
      // The longer batch also runs the target's timers longer: that share is not a connect's.
      const idle = (m.idleUsPerS * (m[large].seconds - m[small].seconds)) / (large - small);
      per[kind].push(marginal);
      perBusy[kind].push(marginal - idle);
      log(
        `${kind} repeat ${r + 1}: ${marginal.toFixed(0)} µs CPU per connect+disconnect (kernel ${sys.toFixed(0)} µs); ` +
          `idle ${(m.idleUsPerS / 1000).toFixed(1)} ms/s, less its share: ${(marginal - idle).toFixed(0)} µs`,
      );
    }
  }
  console.log(`\ntarget CPU per MQTT connect + clean disconnect, marginal ${small}→${large} at ${ratePerS}/s:`);
  const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const us = (xs) => xs.map((x) => `${x.toFixed(0)} µs`).join(', ');
  for (const kind of kinds) {
    console.log(`  ${kind.padEnd(9)} ${us(per[kind])}   (less the idle timers' share: ${us(perBusy[kind])})`);
  }
  if (per.embedded && per.bare) {
    const ratio = (xs) => (med(xs.embedded) / med(xs.bare)).toFixed(2);
    console.log(`  ratio embedded / bare aedes (median of each): ${ratio(per)} (idle share removed: ${ratio(perBusy)})`);
  }
  if (per.embedded && per.baseline) {
    console.log(`  ratio embedded / baseline (median of each): ${(med(per.embedded) / med(per.baseline)).toFixed(2)}`);
  }
  return 0;
}

runMain('target-connect-cost', main);
