#!/usr/bin/env node
/**
 * TLS handshake cost (issue 17): client CPU per full handshake against a private Mosquitto TLS
 * listener (ECDSA P-256, set_tcp_nodelay true, a fresh broker per measurement), TLS 1.2 and 1.3,
 * everything in this one run:
 * - openssl s_time -new (and -reuse, reported apart): CPU of its process / connections;
 * - a Node floor (bench/lib/tls-floor.js): tls.connect as herd called it before (plain) and with
 *   one shared SecureContext and the leaf-only identity check (tuned), one at a time like s_time;
 *   and tuned + MQTT CONNECT/CONNACK paced at --rate/s with every session held, as herd runs;
 * - herd (`herd run`, one worker), marginal CPU of two runs of --sizes A,B devices:
 *   (CPU of B − CPU of A) / (B − A), so start-up and teardown cancel — one handshake at a time
 *   (a spike under --max-handshakes 1, s_time's shape) and open model at --rate/s. The open-model
 *   runs then drop every session (outage, clean DISCONNECT) and reconnect — with tls.resume 0
 *   (full) and 1 (resumed) — counted from results.json (full vs resumed handshakes).
 * Prints the table with the ratios and the load average; asserts nothing.
 *
 *   npm run bench:tls [-- --sizes 300,2300 --rate 400 --stime-seconds 5 --floor-count 1500]
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

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const [small, large] = String(arg('sizes', '300,2300')).split(',').map(Number);
const rate = Number(arg('rate', '400'));
const stimeSeconds = Number(arg('stime-seconds', '5'));
const floorCount = Number(arg('floor-count', '1500'));
const versions = String(arg('versions', 'TLSv1.2,TLSv1.3')).split(',');
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
  out.push('');
  out.push(
    'Full handshake, client CPU µs per handshake — one at a time (closed loop; herd also sends CONNECT and reads CONNACK)',
  );
  out.push(
    '| TLS | openssl s_time -new | node floor plain | node floor tuned | herd --max-handshakes 1 | herd / openssl | herd / node plain | herd / node tuned |',
  );
  out.push('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const v of rows) {
    const o = cpuOf(v.stime);
    out.push(
      `| ${v.version} | ${us(o)} | ${us(v.floorPlain.cpuUsPerHandshake)} | ${us(v.floorTuned.cpuUsPerHandshake)} | ${us(v.engines.js.closedUs)} | ${ratio(v.engines.js.closedUs, o)} | ${ratio(v.engines.js.closedUs, v.floorPlain.cpuUsPerHandshake)} | ${ratio(v.engines.js.closedUs, v.floorTuned.cpuUsPerHandshake)} |`,
    );
  }
  out.push('');
  out.push(
    `Full handshake, client CPU µs per handshake — open model at ${rate}/s, MQTT CONNECT/CONNACK, sessions held`,
  );
  out.push(
    `| TLS | node floor tuned + MQTT at ${rate}/s | herd at ${rate}/s | herd / openssl s_time | herd / node floor at ${rate}/s |`,
  );
  out.push('|---|---:|---:|---:|---:|');
  for (const v of rows) {
    out.push(
      `| ${v.version} | ${us(v.floorPaced.cpuUsPerHandshake)} | ${us(v.engines.js.fullUs)} | ${ratio(v.engines.js.fullUs, cpuOf(v.stime))} | ${ratio(v.engines.js.fullUs, v.floorPaced.cpuUsPerHandshake)} |`,
    );
  }
  out.push('');
  out.push(
    'Resumption (reported apart), client CPU µs per handshake; herd reconnects include the clean DISCONNECT of the session they replace',
  );
  out.push(
    '| TLS | s_time -reuse (resumed) | node tuned resumed (resumed · key exchange skipped) | herd reconnect full | herd reconnect resumed (resumed of reconnects) | herd resumed / full |',
  );
  out.push('|---|---:|---:|---:|---:|---:|');
  for (const v of rows) {
    const sr = v.stimeReuse;
    const stime = 'skipped' in sr ? 'n/a' : `${us(sr.cpuUsPerHandshake)} (${sr.resumed} of ${sr.connections})`;
    const f = v.floorResumed;
    const hb = v.engines.js.herd[`1-${large}`];
    out.push(
      `| ${v.version} | ${stime} | ${us(f.cpuUsPerHandshake)} (${f.resumed} of ${f.handshakes} · ${f.keyExchangeSkipped}) | ${us(v.engines.js.reconnectFullUs)} | ${us(v.engines.js.reconnectResumedUs)} (${hb.resumedHandshakes} of ${hb.reconnects}) | ${ratio(v.engines.js.reconnectResumedUs, v.engines.js.reconnectFullUs)} |`,
    );
  }
  out.push('');
  for (const v of rows) {
    out.push(
      `${v.version}: herd full handshake with tls.resume 1 (a 'session' listener saving each ticket): ${us(v.engines.js.fullWithSessionsUs)} µs`,
    );
    for (const [k, r] of Object.entries(v.engines.js.herd)) {
      if (r.problems > 0 || !r.balanced || r.saturated || r.exitCode !== 0) {
        out.push(
          `  note: herd run ${k} — exit ${r.exitCode}, ${r.problems} failed/timed out/dropped/offline, accounting ${r.balanced ? 'balanced' : 'UNBALANCED'}${r.saturated ? ', harness flagged saturated' : ''}`,
        );
      }
    }
    for (const [k, r] of [
      ['s_time -new', v.stime],
      ['s_time -reuse', v.stimeReuse],
    ])
      if ('skipped' in r) out.push(`  note: ${k} not measured: ${r.skipped}`);
    for (const [k, r] of [
      ['plain', v.floorPlain],
      ['tuned', v.floorTuned],
      ['resumed', v.floorResumed],
      ['paced', v.floorPaced],
    ])
      if (r.errors > 0) out.push(`  note: node floor ${k}: ${r.errors} errors (${r.firstError?.trim()})`);
  }
  out.push('');
  out.push('goal (issue 17): herd full-handshake CPU within 1.3× of openssl s_time');
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
      floors: true,
      closed: true,
    };
    for (const version of versions) rows.push(await measureVersion(o, version, ['js']));
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
