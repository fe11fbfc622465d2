#!/usr/bin/env node
/**
 * Issue 26's whole table in one run, every figure beside its reference measured in the same run:
 * - plain TCP (bench/lib/plain-storm.js): the C epoll client (bench/c/mqtt_ref.c), herd
 *   `engine: native` and herd `engine: js` against a fresh private Mosquitto per measurement, at
 *   --sizes (default 15,000 and 5,000), 64 in flight, 2 fresh source addresses per client: conn/s
 *   and its ratio to C, client CPU µs per connection and its ratio to C, bytes per held connection;
 * - TLS 1.2 and 1.3 full handshakes (bench/lib/tls-measure.js), client CPU µs per handshake:
 *   openssl s_time -new vs herd js vs herd native (marginal CPU of --tls-sizes A,B devices at
 *   --rate/s, one worker), and resumed vs full: s_time -reuse / -new against herd's resumed / full
 *   reconnects. The native column runs once the native core carries mqtts:// (the mqtt kind's native
 *   row says so); until then it says why not ("not built", "no TLS").
 * - the QoS 1 telemetry fleet (bench/lib/telemetry-part.js, bench/memory.js as a child): herd native at
 *   the first of --sizes, connect-only vs telemetry — connect rate and its ratio, client and broker CPU
 *   per connection, bytes per held telemetry connection — as 2 workers and as 1.
 * Prints the tables and the issue's goals with the load average; asserts nothing.
 *
 * The native engine runs twice per size: 2 workers × 32 in flight (herd's own choice on two cores)
 * and 1 worker × 64, one process as the C client is one (--one-worker 0 leaves it out).
 *
 *   npm run bench:table [-- --sizes 15000,5000 --repeats 2 --tls-sizes 1000,3400 --rate 400]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadNative, nativeUnavailable } from '../dist/protocols/native/binding.js';
import { DEVICE_KIND_ROWS, prepareTarget } from '../dist/protocols/kinds.js';
import { buildReference } from './lib/cref.js';
import { INFLIGHT, measurePlain } from './lib/plain-storm.js';
import { parsePool, SourcePool } from './lib/sources.js';
import { findMosquitto, mosquittoFactory } from './lib/targets.js';
import { measureTelemetry, telemetryBytesOk, telemetryRateRatio } from './lib/telemetry-part.js';
import { measureVersion } from './lib/tls-measure.js';
import { makeCerts } from './lib/tls-target.js';
import { arg, runMain, writeSummary } from './lib/main.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const sizes = String(arg('sizes', '15000,5000')).split(',').map(Number);
const repeats = Number(arg('repeats', '2'));
// Both from 1,000 devices: a worker warms fully from there (src/engine/warm-engine.ts), so the two
// runs whose difference is the marginal cost warm alike and their compilation cancels.
const [small, large] = String(arg('tls-sizes', '1000,3400')).split(',').map(Number);
const rate = Number(arg('rate', '400'));
const stimeSeconds = Number(arg('stime-seconds', '5'));
const versions = String(arg('versions', 'TLSv1.2,TLSv1.3')).split(',');
const parts = String(arg('parts', 'plain,tls,telemetry')).split(',');
// herd native as one process beside the default two workers (--one-worker 0 leaves that row out).
const oneWorker = String(arg('one-worker', '1')) !== '0';
const pool = new SourcePool(parsePool(String(arg('source-pool', '127.0.0.64-127.0.0.199'))));
const log = (m) => process.stderr.write(`${m}\n`);

const n0 = (x) => (x === null || x === undefined ? 'n/a' : Math.round(x).toLocaleString('en-US'));
const ratio = (a, b) =>
  a === null || b === null || a === undefined || b === undefined || b === 0 ? 'n/a' : (a / b).toFixed(2);
/** Resumed and full reconnects less the plain-TCP reconnect of the same shape: the handshakes' own CPU. */
const tlsShare = (e) => {
  const [r, f, p] = [e?.reconnectResumedUs, e?.reconnectFullUs, e?.plainReconnectUs];
  return typeof r === 'number' && typeof f === 'number' && typeof p === 'number' ? [r - p, f - p] : [null, null];
};
const k = (n) => (n % 1000 === 0 ? `${n / 1000}k` : n.toLocaleString('en-US'));

/** Whether herd's native core carries mqtts:// now, or why the native TLS column stays empty. */
function nativeTls(ca) {
  if (loadNative() === null) return { runs: false, why: `not built (${nativeUnavailable()})` };
  const row = DEVICE_KIND_ROWS.mqtt?.native;
  const t = prepareTarget('mqtt', 'mqtts://127.0.0.1:8883', { ca });
  if (row === undefined || !row.carries(t)) return { runs: false, why: 'no TLS' };
  return { runs: true, why: null };
}

/**
 * A herd row's ratio to C: the median of its per-repeat ratios (each run against the C run before
 * it), with their lowest and highest beside it when there were two or more.
 */
const vsC = (paired, x, c, spread) =>
  paired === undefined || paired === null
    ? ratio(x, c)
    : `${paired.toFixed(2)}${spread == null ? '' : ` (${spread[0].toFixed(2)}–${spread[1].toFixed(2)})`}`;

function renderPlain(rows, out) {
  const [a, b] = sizes;
  const at = (n) => rows.find((r) => r.n === n);
  // Both goals hold at both sizes: conn/s and CPU per connection, each beside its ratio to C.
  const cpuCell = (x) => `${n0(x?.cpuUs)}${x?.kernelUs == null ? '' : ` (${n0(x.kernelUs)})`}`;
  const pair = (x, r) =>
    `${n0(x?.perS)} | ${vsC(x?.perSVsC, x?.perS, r?.c.perS, x?.perSVsCSpread)} | ` +
    `${cpuCell(x)} | ${vsC(x?.cpuVsC, x?.cpuUs, r?.c.cpuUs, x?.cpuVsCSpread)} |`;
  const heads = (n) => `conn/s at ${k(n)} | vs C | CPU µs/conn at ${k(n)} (of which kernel) | vs C |`;
  out.push(
    `| client | ${heads(a)} bytes per held conn at ${k(a)} (herd: RSS after GC; live: JS heap + malloc in use) |` +
      (b === undefined ? '' : ` ${heads(b)}`),
  );
  out.push(`|---|---:|---:|---:|---:|---:|${b === undefined ? '' : '---:|---:|---:|---:|'}`);
  const line = (label, pick) => {
    const ra = at(a);
    const rb = b === undefined ? null : at(b);
    const x = pick(ra);
    if (x === null) return out.push(`| ${label} | not run |  |  |  |  |${b === undefined ? '' : '  |  |  |  |'}`);
    const bytes = `${n0(x.bytes)}${x.liveBytes == null ? '' : ` (live ${n0(x.liveBytes)})`}`;
    out.push(`| ${label} | ${pair(x, ra)} ${bytes} |${b === undefined ? '' : ` ${pair(rb ? pick(rb) : null, rb)}`}`);
  };
  line('C epoll client, 2 source addresses', (r) => r.c);
  line('herd `engine: native`, 2 workers', (r) => r.native);
  line('herd `engine: native`, 1 worker (one process, as the C client)', (r) => r.native1);
  line('herd `engine: js`', (r) => r.js);
  for (const r of rows) {
    for (const x of [r.c, r.js, r.native, r.native1].filter(Boolean))
      if (x.ok !== null && x.ok < r.n)
        out.push(`  note: ${x.client} at ${k(r.n)}: ${n0(x.ok)} of ${n0(r.n)} connected`);
  }
}

function renderTls(tlsRows, nt, out) {
  const cpu = (r) => (r === undefined || 'skipped' in r ? null : r.cpuUsPerHandshake);
  const nativeCell = (v, pick) => {
    const e = v.engines.native;
    if (e === undefined) return nt.why;
    const x = pick(e);
    return e.ranOn === 'native' ? x : `${x} (ran on ${e.ranOn})`;
  };
  out.push(
    `TLS full handshake, client CPU µs per handshake — herd marginal over ${n0(small)} → ${n0(large)} devices at ` +
      `${rate}/s, one worker; openssl s_time -new one at a time`,
  );
  out.push('| TLS | openssl s_time | herd js | js / openssl | herd native | native / openssl |');
  out.push('|---|---:|---:|---:|---:|---:|');
  for (const v of tlsRows) {
    const o = cpu(v.stime);
    const js = v.engines.js;
    out.push(
      `| ${v.version.replace('TLSv', '')} | ${n0(o)} | ${n0(js?.fullUs)} | ${ratio(js?.fullUs, o)} | ` +
        `${nativeCell(v, (e) => n0(e.fullUs))} | ${nativeCell(v, (e) => ratio(e.fullUs, o))} |`,
    );
  }
  out.push('');
  out.push('Resumed vs full: CPU per resumed handshake ÷ CPU per full one (lower is cheaper; herd: reconnect waves)');
  out.push(
    '| TLS | openssl s_time -reuse / -new | herd js | herd native | native TLS share (reconnect − plain TCP reconnect) | resumed of reconnects (js) |',
  );
  out.push('|---|---:|---:|---:|---:|---:|');
  for (const v of tlsRows) {
    const js = v.engines.js;
    const hb = js?.herd[`1-${large}`];
    out.push(
      `| ${v.version.replace('TLSv', '')} | ${ratio(cpu(v.stimeReuse), cpu(v.stime))} | ` +
        `${ratio(js?.reconnectResumedUs, js?.reconnectFullUs)} | ` +
        `${nativeCell(v, (e) => ratio(e.reconnectResumedUs, e.reconnectFullUs))} | ` +
        `${nativeCell(v, (e) => ratio(...tlsShare(e)))} | ` +
        `${hb ? `${n0(hb.resumedHandshakes)} of ${n0(hb.reconnects)}` : 'n/a'} |`,
    );
  }
  for (const v of tlsRows) {
    for (const [engine, e] of Object.entries(v.engines))
      for (const [key, r] of Object.entries(e.herd))
        if (r.problems > 0 || !r.balanced || r.saturated || r.exitCode !== 0)
          out.push(
            `  note: ${v.version} herd-${engine} ${key}: exit ${r.exitCode}, ${r.problems} failed/timed out/dropped/offline, ` +
              `accounting ${r.balanced ? 'balanced' : 'UNBALANCED'}${r.saturated ? ', harness flagged saturated' : ''}`,
          );
    for (const [name, r] of [
      ['s_time -new', v.stime],
      ['s_time -reuse', v.stimeReuse],
    ])
      if ('skipped' in r) out.push(`  note: ${v.version} ${name} not measured: ${r.skipped}`);
      else if (r.before != null && r.after != null)
        out.push(
          `  note: ${v.version} ${name}: ${n0(r.before)} µs before herd's runs, ${n0(r.after)} after; the table uses their mean`,
        );
  }
}

function renderTelemetry(telemetry, out) {
  const n = sizes[0];
  out.push(
    `QoS 1 telemetry fleet at ${k(n)} (publish every 1 s, echoed; bench/memory.js), herd native, medians of ${repeats}: ` +
      'connect-only → telemetry; broker = Mosquitto’s own CPU over the same window',
  );
  out.push(
    '| herd native | connect-only conn/s | telemetry conn/s | ratio | CPU µs/conn | Mosquitto µs/conn | ' +
      'telemetry bytes per held conn (RSS after GC; live) |',
  );
  out.push('|---|---:|---:|---:|---:|---:|---:|');
  for (const x of telemetry) {
    const shape = `${x.workers} worker${x.workers === 1 ? '' : 's'}`;
    if (x.skipped !== undefined) {
      out.push(`| ${shape} | ${x.skipped} | | | | | |`);
      continue;
    }
    const c = x.connect;
    const t = x.telemetry;
    out.push(
      `| ${shape} | ${n0(c?.connPerS)} | ${n0(t?.connPerS)} | ${ratio(t?.connPerS, c?.connPerS)} | ` +
        `${n0(c?.cpuUs)} → ${n0(t?.cpuUs)} | ${n0(c?.brokerUs)} → ${n0(t?.brokerUs)} | ${n0(t?.gcRss)}; ${n0(t?.live)} |`,
    );
  }
}

function renderGoals(rows, tlsRows, telemetry, out) {
  // The measured figure beside each verdict, to 3 decimals: a table cell's 0.85 can be a 0.849.
  const goal = (label, ok, figure = null) =>
    out.push(
      `  ${ok === null ? 'not measured' : ok ? 'reached     ' : 'NOT reached '}  ${label}` +
        (ok === null || figure === null ? '' : ` (${figure})`),
    );
  const known = (x) => x !== null && x !== undefined;
  const okRatio = (a, b, cmp) => (known(a) && known(b) ? cmp(a / b) : null);
  const okPaired = (x, cmp) => (known(x) ? cmp(x) : null);
  const f3 = (x) => (known(x) && Number.isFinite(x) ? `${x.toFixed(3)}×` : null);
  out.push('goals (issue 26, measured in this run):');
  for (const r of rows) {
    for (const [x, how] of [
      [r.native, '2 workers'],
      [r.native1, '1 worker'],
    ]) {
      if (x === null || x === undefined) continue;
      goal(
        `plain TCP at ${k(r.n)}: native (${how}) ≥ 0.85× the C client's conn/s`,
        okPaired(x.perSVsC, (v) => v >= 0.85),
        f3(x.perSVsC),
      );
      goal(
        `plain TCP at ${k(r.n)}: native (${how}) CPU per connection ≤ 1.3× C's`,
        okPaired(x.cpuVsC, (v) => v <= 1.3),
        f3(x.cpuVsC),
      );
    }
  }
  for (const v of tlsRows) {
    const e = v.engines.native?.ranOn === 'native' ? v.engines.native : null;
    const o = 'skipped' in v.stime ? null : v.stime.cpuUsPerHandshake;
    const oReuse = 'skipped' in v.stimeReuse ? null : v.stimeReuse.cpuUsPerHandshake;
    goal(
      `${v.version} full handshake: native client CPU ≤ 1.3× openssl s_time`,
      okRatio(e?.fullUs, o, (x) => x <= 1.3),
      known(e?.fullUs) && known(o) ? f3(e.fullUs / o) : null,
    );
    const sRatio = o === null || oReuse === null ? null : oReuse / o;
    goal(
      `${v.version} resumed cheaper than full by at least s_time's ratio (native)`,
      sRatio === null ? null : okRatio(e?.reconnectResumedUs, e?.reconnectFullUs, (x) => x <= sRatio),
      sRatio === null || !known(e?.reconnectResumedUs) || !known(e?.reconnectFullUs)
        ? null
        : `${(e.reconnectResumedUs / e.reconnectFullUs).toFixed(3)} against s_time's ${sRatio.toFixed(3)}` +
            `; the TLS share alone (reconnect − plain TCP reconnect): ${ratio(...tlsShare(e))}`,
    );
  }
  for (const x of telemetry) {
    const how = `${x.workers} worker${x.workers === 1 ? '' : 's'}`;
    goal(
      `QoS 1 telemetry at ${k(sizes[0])}: native (${how}) ≤ 1 KB per held connection`,
      telemetryBytesOk(x.telemetry),
      `RSS after GC ${n0(x.telemetry?.gcRss)} B, live ${n0(x.telemetry?.live)} B`,
    );
    const r = telemetryRateRatio(x);
    goal(
      `QoS 1 telemetry at ${k(sizes[0])}: native (${how}) connect rate within 10% of connect-only's`,
      r === null ? null : r >= 0.9,
      f3(r),
    );
  }
}

async function main() {
  const bin = findMosquitto();
  if (bin === null) {
    log('bench/table: Mosquitto is not installed (apt-get install -y mosquitto): nothing to measure against');
    return 2;
  }
  const workDir = join(repoRoot, 'bench/out', `table-${new Date().toISOString().replace(/[:.]/g, '')}`);
  mkdirSync(workDir, { recursive: true });
  const factory = mosquittoFactory(bin);
  const load0 = loadavg()[0];
  let rows = [];
  if (parts.includes('plain')) {
    if (loadNative() === null) log(`bench/table: SKIP herd-native: ${nativeUnavailable()}`);
    const ref = buildReference(repoRoot);
    if ('skipped' in ref) log(`bench/table: SKIP C reference: ${ref.skipped}`);
    // 100,000 per address: every client over 2 addresses (herd-js binds explicit ports, no port search).
    const o = { repoRoot, factory, ref, pool, sizes, repeats, workDir, oneWorker };
    rows = await measurePlain({ ...o, jsPerAddress: 100_000, prefix: 'tref' });
  }
  const tlsRows = [];
  let nt = { runs: false, why: 'not run' };
  if (parts.includes('tls')) {
    const certs = makeCerts();
    try {
      nt = nativeTls(certs.ca);
      log(`bench/table: herd-native TLS: ${nt.runs ? 'measured' : nt.why}`);
      // plain: the same open-model runs over plain TCP, so the resumed row can also show the TLS share alone.
      const o = {
        repoRoot,
        bin,
        certs,
        workDir,
        small,
        large,
        rate,
        stimeSeconds,
        floors: false,
        closed: false,
        plain: true,
      };
      for (const version of versions)
        tlsRows.push(await measureVersion(o, version, nt.runs ? ['js', 'native'] : ['js']));
    } finally {
      rmSync(certs.dir, { recursive: true, force: true });
    }
  }
  // Its own addresses (--telemetry-source-pool), apart from the plain part's (--source-pool).
  const telemetry = parts.includes('telemetry')
    ? measureTelemetry({
        repoRoot,
        n: sizes[0],
        repeats,
        shapes: oneWorker ? [2, 1] : [2],
        sourcePool: String(arg('telemetry-source-pool', '127.0.0.200-127.0.0.254')),
      })
    : [];
  const load1 = loadavg()[0];
  const out = [];
  out.push(
    `issue 26 — ${factory.label} ${factory.version}, loopback, node ${process.versions.node} / OpenSSL ` +
      `${process.versions.openssl}; load average (1 min) ${load0.toFixed(2)} before, ${load1.toFixed(2)} after, ` +
      `on ${cpus().length} cores (${cpus()[0]?.model.trim() ?? 'unknown CPU'})`,
  );
  if (rows.length > 0) {
    out.push('');
    out.push(
      `Plain TCP: ${INFLIGHT} in flight, 2 fresh source addresses per client, medians of ${repeats}; ` +
        `bytes at ${k(sizes[0])}; "vs C": the median of each herd run's ratio to the C run just before it (lowest–highest beside it)`,
    );
    renderPlain(rows, out);
  }
  if (tlsRows.length > 0) {
    out.push('');
    renderTls(tlsRows, nt, out);
  }
  if (telemetry.length > 0) {
    out.push('');
    renderTelemetry(telemetry, out);
  }
  out.push('');
  renderGoals(rows, tlsRows, telemetry, out);
  console.log(`\n${out.join('\n')}`);
  writeSummary(workDir, { load0, load1, rows, tlsRows, nativeTls: nt, telemetry });
  return 0;
}

runMain('table', main);
