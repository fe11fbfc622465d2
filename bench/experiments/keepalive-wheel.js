#!/usr/bin/env node
// What keepalive costs the engine per held session, no sockets: N sessions on the one-second
// wheel (dist/engine/keepalive.js), each answering its ping at once, swept second by second over
// `--seconds`; the reference, in the same run, is the unavoidable work — calling ping() on every
// session once per interval from a plain array. Also: 20 reconnects per device, then the wheel's
// entries and the pings sent in the next interval (must be one per device).
// Usage: npm run build && node bench/experiments/keepalive-wheel.js [--sessions 100000] [--seconds 120]
import { performance } from 'node:perf_hooks';
import { KeepaliveWheel, keepaliveDue } from '../../dist/engine/keepalive.js';

const arg = (name, dflt) => (process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : dflt);
const N = arg('--sessions', 100_000);
const SECONDS = arg('--seconds', 120);
const K_US = 30e6;
if (!Number.isInteger(N) || N < 1 || N > 1_000_000 || !Number.isInteger(SECONDS) || SECONDS < 31 || SECONDS > 3600) {
  console.error('--sessions: 1 to 1,000,000; --seconds: 31 to 3600');
  process.exit(2);
}

class Session {
  state = 'connected';
  pingSentUs = NaN;
  pings = 0;
  ping() {
    this.pings++;
    // Answered at once: any byte received clears the outstanding ping.
  }
}

function wheelRun() {
  const devices = Array.from({ length: N }, () => new Session());
  const session = new Uint32Array(N).fill(1);
  const wheel = new KeepaliveWheel(K_US);
  for (let s = 0; s < N; s++) wheel.add(s, 1, 0);
  const fleet = { device: (s) => devices[s], session: (s) => session[s] };
  const t0 = performance.now();
  for (let sec = 1; sec <= SECONDS; sec++) keepaliveDue([wheel], fleet, sec * 1e6, () => {});
  const ms = performance.now() - t0;
  return { ms, pings: devices.reduce((n, d) => n + d.pings, 0) };
}

function referenceRun() {
  const devices = Array.from({ length: N }, () => new Session());
  const perSecond = Math.ceil(N / (K_US / 1e6));
  const t0 = performance.now();
  let next = 0;
  for (let sec = 1; sec <= SECONDS; sec++) {
    for (let k = 0; k < perSecond; k++) {
      devices[next].ping();
      next = (next + 1) % N;
    }
  }
  const ms = performance.now() - t0;
  return { ms, pings: devices.reduce((n, d) => n + d.pings, 0) };
}

function reconnects() {
  const n = Math.min(N, 10_000);
  const devices = Array.from({ length: n }, () => new Session());
  const session = new Uint32Array(n);
  const wheel = new KeepaliveWheel(5e6);
  let t = 0;
  for (let r = 0; r < 21; r++) {
    for (let s = 0; s < n; s++) {
      session[s]++;
      devices[s] = new Session();
      wheel.add(s, session[s], t);
    }
    t += 400_000; // each session lives 0.4 s
    keepaliveDue([wheel], { device: (s) => devices[s], session: (s) => session[s] }, t, () => {});
  }
  const from = t;
  keepaliveDue([wheel], { device: (s) => devices[s], session: (s) => session[s] }, from + 5e6, () => {});
  const before = devices.reduce((x, d) => x + d.pings, 0);
  keepaliveDue([wheel], { device: (s) => devices[s], session: (s) => session[s] }, from + 10e6, () => {});
  const after = devices.reduce((x, d) => x + d.pings, 0);
  return { devices: n, entriesAfter: wheel.size, pingsInOneInterval: after - before };
}

const ref = referenceRun();
const wheel = wheelRun();
const rc = reconnects();
const perPing = (r) => ((r.ms * 1000) / r.pings).toFixed(3);
console.log(`keepalive wheel: ${N} sessions, K 30 s, ${SECONDS} s swept`);
console.log(
  `  reference (ping() from an array): ${ref.pings} pings in ${ref.ms.toFixed(1)} ms = ${perPing(ref)} µs/ping`,
);
console.log(
  `  wheel (keepaliveDue):             ${wheel.pings} pings in ${wheel.ms.toFixed(1)} ms = ${perPing(wheel)} µs/ping`,
);
console.log(`  ratio wheel / reference: ${(wheel.ms / wheel.pings / (ref.ms / ref.pings)).toFixed(2)}×`);
console.log(
  `after 21 sessions each (20 reconnects), ${rc.devices} devices, K 5 s: ${rc.entriesAfter} wheel entries, ${rc.pingsInOneInterval} pings in the next interval`,
);
