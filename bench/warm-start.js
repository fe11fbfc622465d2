#!/usr/bin/env node
/**
 * Warm start (issue 17): a spike of N devices at t = 0, run with and without the workers'
 * connect-path warm-up, alternating, on a fresh target each time. Prints the schedule lag
 * (intended start → socket opened) p50/p99 and connect total p50/p99 of each, and the ratio
 * cold / warm measured in the same run. Asserts nothing.
 *
 *   npm run build && node bench/warm-start.js [--devices 5000] [--repeats 3] [--workers 2]
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Coordinator } from '../dist/engine/coordinator.js';
import { loadScenario } from '../dist/scenario/load.js';
import { embeddedFactory, findMosquitto, mosquittoFactory } from './lib/targets.js';
import { median } from './lib/procs.js';

function flag(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? dflt : Number(process.argv[i + 1]);
}
const devices = flag('devices', 5000);
const repeats = flag('repeats', 3);
const workers = flag('workers', 2);

function scenarioFor(url) {
  const dir = mkdtempSync(join(tmpdir(), 'herd-warm-'));
  const path = join(dir, 'spike.yaml');
  writeFileSync(
    path,
    `name: warm-start-spike\ntarget: ${url}\ndevices: ${devices}\ndevice: { keepalive: 60s, connectTimeout: 10s }\nwaves:\n  - { type: spike }\nhold: 11s\n`,
  );
  return loadScenario(path).resolved;
}

async function once(factory, warmUp) {
  const target = await factory.start();
  try {
    const c = new Coordinator({
      runId: `warm-${warmUp}`,
      scenario: scenarioFor(target.url),
      targets: [[target.url]],
      workers,
      shard: { index: 0, count: 1 },
      startAtMs: null,
      sourceIps: [],
      maxHandshakesInFlight: 0,
      maxPacketBytes: 64 * 1024,
      onWorkerFailure: 'abort',
      warmUp,
    });
    const o = await c.run();
    const lat = o.aggregate.latency();
    const lag = lat['connect.scheduleLag'];
    const total = lat['connect.total'];
    return {
      lagP50: lag.p50Us,
      lagP99: lag.p99Us,
      totalP50: total.p50Us,
      totalP99: total.p99Us,
      ok: o.aggregate.totals.succeeded,
    };
  } finally {
    await target.stop();
  }
}

const ms = (us) => `${(us / 1000).toFixed(1)} ms`;

async function main() {
  const mosq = findMosquitto();
  const factory = mosq
    ? mosquittoFactory(mosq)
    : embeddedFactory(resolve(dirname(fileURLToPath(import.meta.url)), '..'));
  process.stderr.write(
    `warm-start: ${devices}-device spike at t=0, ${workers} workers, against ${factory.label}, ${repeats} alternating pairs\n`,
  );
  const rows = { cold: [], warm: [] };
  for (let i = 0; i < repeats; i++) {
    for (const warm of [false, true]) {
      const r = await once(factory, warm);
      rows[warm ? 'warm' : 'cold'].push(r);
      process.stderr.write(
        `  ${warm ? 'warm' : 'cold'} #${i + 1}: schedule lag p50 ${ms(r.lagP50)} p99 ${ms(r.lagP99)} · total p50 ${ms(r.totalP50)} p99 ${ms(r.totalP99)} · ${r.ok} connected\n`,
      );
    }
  }
  const m = (list, k) => median(list.map((r) => r[k]));
  console.log(
    `\n${devices}-device spike, medians of ${repeats} (load average ${(await import('node:os')).loadavg()[0].toFixed(2)}):`,
  );
  console.log('               schedule lag p50   p99        connect total p50   p99');
  for (const k of ['cold', 'warm'])
    console.log(
      `  ${k.padEnd(5)}        ${ms(m(rows[k], 'lagP50')).padEnd(18)} ${ms(m(rows[k], 'lagP99')).padEnd(10)} ${ms(m(rows[k], 'totalP50')).padEnd(19)} ${ms(m(rows[k], 'totalP99'))}`,
    );
  const ratio = (k) => (m(rows.warm, k) > 0 ? (m(rows.cold, k) / m(rows.warm, k)).toFixed(2) : 'n/a');
  console.log(
    `  cold / warm  ${ratio('lagP50')}×               ${ratio('lagP99')}×      ${ratio('totalP50')}×               ${ratio('totalP99')}×`,
  );
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`warm-start: ${err?.stack ?? err}\n`);
    process.exit(1);
  },
);
