#!/usr/bin/env node
/**
 * TLS handshake cost (issues 17, 26): client CPU per full handshake against a private Mosquitto TLS
 * listener (ECDSA P-256, set_tcp_nodelay true, a fresh broker per measurement), TLS 1.2 and 1.3,
 * everything in this one run:
 * - openssl s_time -new (and -reuse, reported apart): CPU of its process / connections;
 * - a Node floor (bench/lib/tls-floor.js): tls.connect as herd called it before (plain) and with
 *   one shared SecureContext and the leaf-only identity check (tuned), one at a time like s_time;
 *   and tuned + MQTT CONNECT/CONNACK paced at --rate/s with every session held, as herd runs;
 * - herd (`herd run`, one worker, per --engines: js, native), marginal CPU of two runs of --sizes A,B devices:
 *   (CPU of B − CPU of A) / (B − A), so start-up and teardown cancel — one handshake at a time
 *   (a spike under --max-handshakes 1, s_time's shape) and open model at --rate/s. The open-model
 *   runs then drop every session (outage, clean DISCONNECT) and reconnect — with tls.resume 0
 *   (full) and 1 (resumed) — counted from results.json (full vs resumed handshakes); with
 *   --closed 1 the same reconnects also come one at a time (s_time -reuse's shape);
 * - the same open-model runs against a plain-TCP listener of the same broker (--plain 1): herd's
 *   cost per connection besides TLS in that shape, so the TLS share (TLS − plain) is set against
 *   s_time, which does nothing but TLS (and its own TCP connect).
 * Prints the tables with the ratios and the load average; asserts nothing.
 *
 *   npm run bench:tls [-- --sizes 1000,3000 --rate 400 --stime-seconds 5 --floor-count 1500
 *                        --versions TLSv1.2,TLSv1.3 --engines js,native --floors 1 --closed 1 --plain 1]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findMosquitto } from './lib/targets.js';
import { measureVersion } from './lib/tls-measure.js';
import { makeCerts } from './lib/tls-target.js';
import { arg, runMain, writeSummary } from './lib/main.js';
import { loadNative } from '../dist/protocols/native/binding.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// Both from 1,000 devices: a worker warms fully from there (src/engine/warm-engine.ts), so the two
// runs whose difference is the marginal cost warm alike and their compilation cancels.
const [small, large] = String(arg('sizes', '1000,3000')).split(',').map(Number);
const rate = Number(arg('rate', '400'));
const stimeSeconds = Number(arg('stime-seconds', '5'));
const floorCount = Number(arg('floor-count', '1500'));
const versions = String(arg('versions', 'TLSv1.2,TLSv1.3')).split(',');
const engines = String(arg('engines', loadNative() === null ? 'js' : 'js,native')).split(',');
const floors = arg('floors', '1') !== '0';
const closed = arg('closed', '1') !== '0';
const plain = arg('plain', '1') !== '0';
const log = (m) => process.stderr.write(`${m}\n`);

const us = (x) => (x === null || x === undefined ? 'n/a' : Math.round(x).toLocaleString('en-US'));
const ratio = (a, b) =>
  a === null || b === null || a === undefined || b === undefined || b === 0 ? 'n/a' : `${(a / b).toFixed(2)}×`;
const cpuOf = (r) => ('skipped' in r ? null : r.cpuUsPerHandshake);

function render(rows, meta) {
  const out = [];
  out.push(
    `TLS handshake client CPU — Mosquitto ${meta.mosquitto} (set_tcp_nodelay true), ECDSA P-256, loopback, node ${process.versions.node} / OpenSSL ${process.versions.openssl}`,
  );
  out.push(
    `load average (1 min) ${meta.load0.toFixed(2)} before, ${meta.load1.toFixed(2)} after, on ${cpus().length} cores; herd: 1 worker, ${small}→${large} devices at ${rate}/s (marginal)`,
  );
  out.push(
    's_time -new with -CAfile parses and verifies the server chain as herd does (its result not enforced); herd also checks the name and sends MQTT CONNECT, reads CONNACK',
  );
  const each = (fn) => {
    for (const v of rows) for (const [engine, e] of Object.entries(v.engines)) fn(v, engine, e);
  };
  if (closed) {
    out.push('');
    out.push("Full handshake, client CPU µs per handshake — one at a time (closed loop, s_time's shape)");
    out.push(
      '| TLS | engine | openssl s_time -new | node floor plain | node floor tuned | herd --max-handshakes 1 | herd / openssl | herd / node tuned | herd plain TCP one at a time | TLS share | share / openssl |',
    );
    out.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    each((v, engine, e) => {
      const o = cpuOf(v.stime);
      const share = e.plainClosedUs === null || e.closedUs === null ? null : e.closedUs - e.plainClosedUs;
      out.push(
        `| ${v.version} | ${engine} (ran on ${e.ranOn}) | ${us(o)} | ${us(v.floorPlain?.cpuUsPerHandshake)} | ${us(v.floorTuned?.cpuUsPerHandshake)} | ${us(e.closedUs)} | ${ratio(e.closedUs, o)} | ${ratio(e.closedUs, v.floorTuned?.cpuUsPerHandshake)} | ${us(e.plainClosedUs)} | ${us(share)} | ${ratio(share, o)} |`,
      );
    });
  }
  out.push('');
  out.push(
    `Full handshake, client CPU µs per connection — open model at ${rate}/s, MQTT CONNECT/CONNACK, sessions held; TLS share = herd TLS − herd plain TCP in the same shape`,
  );
  out.push(
    `| TLS | engine | openssl s_time -new | node floor tuned + MQTT | herd TLS | herd / openssl | herd plain TCP | TLS share | share / openssl |`,
  );
  out.push('|---|---|---:|---:|---:|---:|---:|---:|---:|');
  each((v, engine, e) => {
    const o = cpuOf(v.stime);
    const share = e.plainUs === null || e.fullUs === null ? null : e.fullUs - e.plainUs;
    out.push(
      `| ${v.version} | ${engine} (ran on ${e.ranOn}) | ${us(o)} | ${us(v.floorPaced?.cpuUsPerHandshake)} | ${us(e.fullUs)} | ${ratio(e.fullUs, o)} | ${us(e.plainUs)} | ${us(share)} | ${ratio(share, o)} |`,
    );
  });
  out.push('');
  out.push(
    'Resumption, client CPU µs per handshake; herd reconnects include the clean DISCONNECT of the session they replace; TLS share = reconnect − plain TCP reconnect',
  );
  out.push(
    '| TLS | engine | s_time -reuse (resumed) | s_time reuse / new | herd reconnect full | herd reconnect resumed (resumed of reconnects) | resumed / full | plain TCP reconnect | TLS share resumed / full |',
  );
  out.push('|---|---|---:|---:|---:|---:|---:|---:|---:|');
  each((v, engine, e) => {
    const sr = v.stimeReuse;
    const stime = 'skipped' in sr ? 'n/a' : `${us(sr.cpuUsPerHandshake)} (${sr.resumed} of ${sr.connections})`;
    const hb = e.herd[`1-${large}`];
    const p = e.plainReconnectUs;
    const less = (a) => (a === null || p === null ? null : a - p);
    out.push(
      `| ${v.version} | ${engine} | ${stime} | ${ratio(cpuOf(sr), cpuOf(v.stime))} | ${us(e.reconnectFullUs)} | ${us(e.reconnectResumedUs)} (${hb.resumedHandshakes} of ${hb.reconnects}) | ${ratio(e.reconnectResumedUs, e.reconnectFullUs)} | ${us(p)} | ${ratio(less(e.reconnectResumedUs), less(e.reconnectFullUs))} |`,
    );
  });
  if (closed) {
    out.push('');
    out.push(
      "Resumption one at a time (s_time -reuse's shape): every device reconnects after a clean outage under --max-handshakes 1; client CPU µs per reconnect",
    );
    out.push(
      '| TLS | engine | s_time -reuse / -new | herd reconnect full | herd reconnect resumed (resumed of reconnects) | resumed / full | plain TCP reconnect | TLS share resumed / full |',
    );
    out.push('|---|---|---:|---:|---:|---:|---:|---:|');
    each((v, engine, e) => {
      const hb = e.herd[`closedrc1-${large}`];
      const p = e.plainClosedReconnectUs;
      const less = (a) => (a === null || p === null ? null : a - p);
      out.push(
        `| ${v.version} | ${engine} | ${ratio(cpuOf(v.stimeReuse), cpuOf(v.stime))} | ${us(e.closedReconnectFullUs)} | ${us(e.closedReconnectResumedUs)} (${hb?.resumedHandshakes} of ${hb?.reconnects}) | ${ratio(e.closedReconnectResumedUs, e.closedReconnectFullUs)} | ${us(p)} | ${ratio(less(e.closedReconnectResumedUs), less(e.closedReconnectFullUs))} |`,
      );
    });
  }
  out.push('');
  each((v, engine, e) => {
    out.push(
      `${v.version} ${engine}: herd full handshake with tls.resume 1 (every ticket kept): ${us(e.fullWithSessionsUs)} µs`,
    );
    for (const [k, r] of Object.entries(e.herd)) {
      if (r.problems > 0 || !r.balanced || r.saturated || r.exitCode !== 0) {
        out.push(
          `  note: herd-${engine} run ${k} — exit ${r.exitCode}, ${r.problems} failed/timed out/dropped/offline, accounting ${r.balanced ? 'balanced' : 'UNBALANCED'}${r.saturated ? ', harness flagged saturated' : ''}`,
        );
      }
    }
  });
  const saturated = rows.some((v) =>
    Object.values(v.engines).some((e) => Object.values(e.herd).some((r) => r.saturated)),
  );
  if (saturated)
    out.push(
      '  a saturated run lags its schedule: part of its wave falls outside the CPU window (the wave figure reads low, the reconnect figure high) — compare those figures with care',
    );
  for (const v of rows) {
    for (const [k, r] of [
      ['s_time -new', v.stime],
      ['s_time -reuse', v.stimeReuse],
    ])
      if ('skipped' in r) out.push(`  note: ${v.version} ${k} not measured: ${r.skipped}`);
    for (const [k, r] of [
      ['plain', v.floorPlain],
      ['tuned', v.floorTuned],
      ['resumed', v.floorResumed],
      ['paced', v.floorPaced],
    ])
      if (r !== undefined && r.errors > 0)
        out.push(`  note: ${v.version} node floor ${k}: ${r.errors} errors (${r.firstError?.trim()})`);
  }
  out.push('');
  out.push("goal (issue 26): herd full-handshake CPU within 1.3× of openssl s_time; resumed / full at most s_time's");
  return out.join('\n');
}

async function main() {
  const bin = findMosquitto();
  if (bin === null) {
    log('bench/tls: Mosquitto is not installed (apt-get install -y mosquitto): nothing to measure against');
    return 2;
  }
  const certs = makeCerts();
  const workDir = join(repoRoot, 'bench/out', `tls-${new Date().toISOString().replace(/[:.]/g, '')}`);
  mkdirSync(workDir, { recursive: true });
  const mosquitto =
    /version\s+(\S+)/.exec(execFileSync('sh', ['-c', `${bin} -h 2>&1 || true`], { encoding: 'utf8' }))?.[1] ??
    'unknown';
  const load0 = loadavg()[0];
  const rows = [];
  try {
    const o = {
      repoRoot,
      bin,
      certs,
      workDir,
      small,
      large,
      rate,
      stimeSeconds,
      floorCount,
      floors,
      closed,
      plain,
    };
    for (const version of versions) rows.push(await measureVersion(o, version, engines));
  } finally {
    rmSync(certs.dir, { recursive: true, force: true });
  }
  const meta = { mosquitto, load0, load1: loadavg()[0] };
  const table = render(rows, meta);
  console.log(`\n${table}`);
  writeSummary(workDir, { meta, rows });
  return 0;
}

runMain('tls', main);
