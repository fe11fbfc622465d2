/**
 * One TLS version's measurements for bench/tls.js and bench/table.js, against a private Mosquitto
 * TLS listener (a fresh broker per measurement): openssl s_time -new and -reuse, before herd's runs
 * and again after them (bracketSTime: the mean of the two); optionally the
 * Node floors (bench/lib/tls-floor.js); and per herd engine (`js`, `native`) the marginal client
 * CPU of two `herd run`s of `small` and `large` devices at `rate`/s — full handshakes on the wave,
 * then full (tls.resume 0) or resumed (tls.resume 1) handshakes on the reconnect wave — and, with
 * `closed`, one handshake at a time (s_time's shape): the wave, and reconnects after a clean outage
 * with tls.resume 0 and 1 (s_time -new and -reuse). With `plain`, the same open-model runs (wave
 * and reconnect wave) against a plain-TCP listener of the same broker: what herd spends per
 * connection besides TLS in that shape (MQTT, the engine, the event loop's wake-ups), so the TLS
 * share — TLS run − plain run — can be set against s_time, which does nothing but TLS.
 */
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runHerdTls } from './tls-herd.js';
import { runSTime } from './tls-stime.js';
import { startTlsMosquitto } from './tls-target.js';

const log = (m) => process.stderr.write(`${m}\n`);
const execFileAsync = promisify(execFile);

/**
 * @typedef {object} TlsBenchOptions
 * @property {string} repoRoot
 * @property {string} bin          Mosquitto
 * @property {object} certs        bench/lib/tls-target.js makeCerts()
 * @property {string} workDir
 * @property {number} small
 * @property {number} large
 * @property {number} rate
 * @property {number} stimeSeconds
 * @property {number} floorCount
 * @property {boolean} floors      measure the Node floors too
 * @property {boolean} closed      measure herd one handshake at a time too
 * @property {boolean} [plain]     measure herd's plain-TCP baseline of the open-model runs too
 */

async function withBroker(o, version, fn, plain = false) {
  const t = await startTlsMosquitto(o.bin, o.certs, version, plain);
  try {
    return await fn(t);
  } finally {
    await t.stop();
  }
}

/** Not execFileSync: the brokers' stderr pipes must keep being read meanwhile. */
async function nodeFloor(o, port, version, mode, resume, ratePerS = 0) {
  const spec = JSON.stringify({
    port,
    ca: o.certs.ca,
    version,
    mode,
    resume,
    ratePerS,
    count: o.floorCount,
    timeoutMs: 120_000,
  });
  const { stdout } = await execFileAsync(process.execPath, [join(o.repoRoot, 'bench/lib/tls-floor.js'), spec], {
    encoding: 'utf8',
    timeout: 150_000,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1));
}

/** herd's runs on one engine and their marginal CPU per handshake. */
async function measureHerd(o, version, engine) {
  const { small, large, rate } = o;
  const herd = {};
  const run = async (key, spec) => {
    const runDir = join(o.workDir, `${version}-${engine}-${key}`);
    mkdirSync(runDir, { recursive: true });
    herd[key] = await withBroker(
      o,
      version,
      (t) => runHerdTls({ repoRoot: o.repoRoot, runDir, url: t.url, ca: o.certs.ca, version, rate, engine, ...spec }),
      spec.plain === true,
    );
  };
  if (o.closed) {
    for (const devices of [small, large]) {
      log(`[${version}] herd-${engine} ${devices} devices, one handshake at a time`);
      await run(`closed-${devices}`, { devices, ratePerS: rate, resume: 0, reconnectWave: false, closedLoop: true });
    }
    // s_time -reuse's shape: every device reconnects after a clean outage, one handshake at a time.
    for (const resume of [0, 1]) {
      for (const devices of [small, large]) {
        log(`[${version}] herd-${engine} ${devices} devices, reconnects one at a time, tls.resume ${resume}`);
        await run(`closedrc${resume}-${devices}`, {
          devices,
          ratePerS: rate,
          resume,
          reconnectWave: true,
          closedLoop: true,
        });
      }
    }
  }
  for (const resume of [0, 1]) {
    for (const devices of [small, large]) {
      log(`[${version}] herd-${engine} ${devices} devices at ${rate}/s, tls.resume ${resume}`);
      await run(`${resume}-${devices}`, { devices, ratePerS: rate, resume, reconnectWave: true });
    }
  }
  if (o.plain && o.closed) {
    for (const devices of [small, large]) {
      log(`[${version}] herd-${engine} ${devices} devices, one at a time, plain TCP (baseline)`);
      await run(`plainclosed-${devices}`, {
        devices,
        ratePerS: rate,
        resume: 0,
        reconnectWave: false,
        closedLoop: true,
        plain: true,
      });
      log(`[${version}] herd-${engine} ${devices} devices, reconnects one at a time, plain TCP (baseline)`);
      await run(`plainclosedrc-${devices}`, {
        devices,
        ratePerS: rate,
        resume: 0,
        reconnectWave: true,
        closedLoop: true,
        plain: true,
      });
    }
  }
  if (o.plain) {
    for (const devices of [small, large]) {
      log(`[${version}] herd-${engine} ${devices} devices at ${rate}/s, plain TCP (baseline)`);
      await run(`plain-${devices}`, { devices, ratePerS: rate, resume: 0, reconnectWave: true, plain: true });
    }
  }
  const marginal = (kind, cpuKey, countKey) => {
    const a = herd[`${kind}-${small}`];
    const b = herd[`${kind}-${large}`];
    if (a === undefined || b === undefined) return null;
    const n = countKey(b) - countKey(a);
    return n > 0 ? (b[cpuKey] - a[cpuKey]) / n : null;
  };
  return {
    herd,
    closedUs: marginal('closed', 'waveCpuUs', (r) => r.devices),
    fullUs: marginal(0, 'waveCpuUs', (r) => r.devices),
    fullWithSessionsUs: marginal(1, 'waveCpuUs', (r) => r.devices),
    reconnectFullUs: marginal(0, 'reconnectCpuUs', (r) => r.reconnects),
    reconnectResumedUs: marginal(1, 'reconnectCpuUs', (r) => r.reconnects),
    plainUs: marginal('plain', 'waveCpuUs', (r) => r.devices),
    plainClosedUs: marginal('plainclosed', 'waveCpuUs', (r) => r.devices),
    plainReconnectUs: marginal('plain', 'reconnectCpuUs', (r) => r.reconnects),
    closedReconnectFullUs: marginal('closedrc0', 'reconnectCpuUs', (r) => r.reconnects),
    closedReconnectResumedUs: marginal('closedrc1', 'reconnectCpuUs', (r) => r.reconnects),
    plainClosedReconnectUs: marginal('plainclosedrc', 'reconnectCpuUs', (r) => r.reconnects),
    // Which connect path the devices really took (results.json run.engines), per run.
    ranOn: [...new Set(Object.values(herd).map((r) => r.ranOn))].join('/'),
  };
}

/**
 * @param {TlsBenchOptions} o
 * @param {'TLSv1.2' | 'TLSv1.3'} version
 * @param {('js' | 'native')[]} engines
 */
/**
 * One s_time figure from a run before herd's and one after: the machine drifts in between (s_time's
 * own full handshake moved 827 → 1,139 µs in ten minutes), so herd is set against the mean of the
 * two, and both are kept (`before`, `after`).
 */
export function bracketSTime(before, after) {
  if ('skipped' in before) return after;
  if ('skipped' in after) return before;
  const mean = (a, b) => (a === null || b === null ? null : (a + b) / 2);
  return {
    connections: before.connections + after.connections,
    resumed: before.resumed === null || after.resumed === null ? null : before.resumed + after.resumed,
    cpuUsPerHandshake: mean(before.cpuUsPerHandshake, after.cpuUsPerHandshake),
    perS: mean(before.perS, after.perS),
    before: before.cpuUsPerHandshake,
    after: after.cpuUsPerHandshake,
  };
}

export async function measureVersion(o, version, engines) {
  const v = { version, engines: {} };
  log(`[${version}] openssl s_time`);
  const stime = (reuse) =>
    withBroker(o, version, (t) => runSTime({ port: t.port, ca: o.certs.ca, version, reuse, seconds: o.stimeSeconds }));
  v.stime = await stime(false);
  v.stimeReuse = await stime(true);
  if (o.floors) {
    log(`[${version}] node floor`);
    const floor = (mode, resume, ratePerS) =>
      withBroker(o, version, (t) => nodeFloor(o, t.port, version, mode, resume, ratePerS));
    v.floorPlain = await floor('plain', false);
    v.floorTuned = await floor('tuned', false);
    v.floorResumed = await floor('tuned', true);
    v.floorPaced = await floor('tuned', false, o.rate);
  }
  for (const engine of engines) v.engines[engine] = await measureHerd(o, version, engine);
  log(`[${version}] openssl s_time again, after herd`);
  v.stime = bracketSTime(v.stime, await stime(false));
  v.stimeReuse = bracketSTime(v.stimeReuse, await stime(true));
  return v;
}
