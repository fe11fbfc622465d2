#!/usr/bin/env node
/**
 * A storm to a target given by host name beside the same storm to its address, in one run: a
 * private Mosquitto on loopback (a fresh broker per measurement), `mqtt://localhost:PORT` against
 * `mqtt://127.0.0.1:PORT`, at the ceiling (100,000/s offered, 64 in flight, one worker), each
 * engine, fresh source addresses per measurement. Three targets per engine, alternating:
 * - `ip`: 127.0.0.1 — the reference;
 * - `name`: localhost with `device.dnsTtl` at its default (one lookup serves the storm);
 * - `name, dnsTtl 0s`: localhost looked up on every attempt (a lookup storm on this machine).
 * Prints conn/s (to the last CONNACK), herd's CPU µs per connection, the `dns` and `tcpConnect`
 * phases, and each row's rate and CPU as a ratio to the `ip` row of its engine; asserts nothing.
 * Needs `localhost` to resolve to 127.0.0.1 (else it says so and stops).
 *
 *   npm run build && node bench/host-name.js [--devices 5000] [--repeats 2] [--engines native,js] [--targets ip,name,name-0s]
 */
import { lookup } from 'node:dns/promises';
import { mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadNative, nativeUnavailable } from '../dist/protocols/native/binding.js';
import { runHerd } from './lib/herd.js';
import { arg, runMain, writeSummary } from './lib/main.js';
import { median } from './lib/procs.js';
import { parsePool, SourcePool } from './lib/sources.js';
import { findMosquitto, mosquittoFactory, withBroker } from './lib/targets.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const devices = Number(arg('devices', '5000'));
const repeats = Number(arg('repeats', '2'));
const pool = new SourcePool(parsePool(String(arg('source-pool', '127.0.0.64-127.0.0.254'))));
const log = (m) => console.error(m);

const ALL_TARGETS = [
  { key: 'ip', label: 'ip', host: '127.0.0.1', lines: [] },
  { key: 'name', label: 'name', host: 'localhost', lines: [] },
  { key: 'name-0s', label: 'name, dnsTtl 0s', host: 'localhost', lines: ['dnsTtl: 0s'] },
];
/** --targets ip,name,name-0s (default all three; the ratios need ip). */
const TARGETS = ALL_TARGETS.filter((t) => String(arg('targets', 'ip,name,name-0s')).split(',').includes(t.key));

/** One storm: `engine` to `t` (a fresh broker, two fresh source addresses). */
async function storm(factory, engine, t, runDir) {
  mkdirSync(runDir, { recursive: true });
  return withBroker(factory, (b) =>
    runHerd({
      repoRoot,
      probePath: join(repoRoot, 'bench/lib/probe.js'),
      runDir,
      target: { ...b, url: b.url.replace('127.0.0.1', t.host) },
      devices,
      ratePerS: 100_000,
      holdMs: 3_000,
      workers: 1,
      maxHandshakes: 64,
      sources: pool.take(devices),
      timeoutMs: 180_000,
      engine,
      deviceLines: t.lines,
    }),
  );
}

const med = (xs) => (xs.length === 0 ? null : median(xs));
const f0 = (x) => (x === null ? 'n/a' : Math.round(x).toLocaleString('en-US'));
const ms = (us) => (us === null || us === undefined ? '—' : `${(us / 1000).toFixed(2)} ms`);
const ratio = (a, b) => (a === null || b === null || b === 0 ? 'n/a' : `${(a / b).toFixed(2)}×`);

async function main() {
  const bin = findMosquitto();
  if (bin === null) {
    log('bench/host-name: Mosquitto is not installed (apt-get install -y mosquitto): nothing to measure against');
    return 2;
  }
  const local = await lookup('localhost', { family: 4 }).catch(() => null);
  if (local?.address !== '127.0.0.1') {
    log(
      `bench/host-name: localhost resolves to ${local?.address ?? 'nothing'} here, not 127.0.0.1: nothing to compare`,
    );
    return 2;
  }
  const engines = String(arg('engines', loadNative() === null ? 'js' : 'native,js')).split(',');
  if (loadNative() === null) log(`bench/host-name: SKIP native: ${nativeUnavailable()}`);
  const factory = mosquittoFactory(bin);
  const workDir = join(repoRoot, 'bench/out', `host-name-${new Date().toISOString().replace(/[:.]/g, '')}`);
  const load0 = loadavg()[0];
  /** @type {Record<string, any[]>} */
  const runs = {};
  for (let i = 0; i < repeats; i++)
    for (const engine of engines)
      for (const t of TARGETS) {
        const key = `${engine}|${t.label}`;
        log(`[${i + 1}/${repeats}] ${engine} → ${t.label}`);
        (runs[key] ??= []).push(await storm(factory, engine, t, join(workDir, `${engine}-${t.key}-${i}`)));
      }
  const load1 = loadavg()[0];
  const row = (engine, t) => {
    const rs = runs[`${engine}|${t.label}`] ?? [];
    return {
      perS: med(rs.map((r) => r.completedAllPerS)),
      each: rs.map((r) => f0(r.completedAllPerS)).join(' / '),
      cpuUs: med(rs.map((r) => r.cpu.usPerConnection).filter((x) => x !== null)),
      dnsCount: med(rs.map((r) => r.dnsUs?.count ?? 0)),
      dnsP50: med(rs.map((r) => r.dnsUs?.p50).filter((x) => x !== undefined)),
      dnsP99: med(rs.map((r) => r.dnsUs?.p99).filter((x) => x !== undefined)),
      tcpP50: med(rs.map((r) => r.tcpConnectUs?.p50).filter((x) => x !== undefined)),
      ok: med(rs.map((r) => r.attempts.succeeded)),
    };
  };
  console.log(
    `\nstorm to a host name vs to its address — ${factory.label} ${factory.version}, loopback, ${devices.toLocaleString('en-US')} devices at the ceiling, 64 in flight, one worker, medians of ${repeats}`,
  );
  console.log(`load average (1 min) ${load0.toFixed(2)} before, ${load1.toFixed(2)} after`);
  console.log(
    '\n| engine | target | conn/s | vs ip | CPU µs/conn | vs ip | dns: attempts, p50, p99 | tcpConnect p50 | succeeded |',
  );
  console.log('|---|---|---:|---:|---:|---:|---|---:|---:|');
  const summary = {};
  for (const engine of engines) {
    const ip = row(engine, ALL_TARGETS[0]);
    for (const t of TARGETS) {
      const r = row(engine, t);
      summary[`${engine}|${t.label}`] = r;
      console.log(
        `| ${engine} | ${t.label} | ${f0(r.perS)}${r.each.includes('/') ? ` (${r.each})` : ''} | ${ratio(r.perS, ip.perS)} | ${r.cpuUs === null ? 'n/a' : r.cpuUs.toFixed(1)} | ${ratio(r.cpuUs, ip.cpuUs)} | ${f0(r.dnsCount)}, ${ms(r.dnsP50)}, ${ms(r.dnsP99)} | ${ms(r.tcpP50)} | ${f0(r.ok)} |`,
      );
    }
  }
  writeSummary(workDir, { devices, repeats, engines, load: [load0, load1], rows: summary });
  return 0;
}

runMain('host-name', main);
