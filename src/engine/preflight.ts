/**
 * Preflight (pure): before a single socket opens, compare what the plan
 * needs — peak concurrency, connect rate — with the harness's ceilings: open files per worker
 * process, ephemeral ports per source/destination pair, memory, TIME_WAIT left by earlier runs.
 * Returns blocking problems, advice, and the workers / source addresses to use.
 */
import type { SystemFacts } from './system.js';
import { isLoopbackHost } from '../util/target-url.js';

export interface PreflightInput {
  peakConcurrent: number;
  peakConnectRatePerS: number;
  /** Explicit --workers, or null to choose. */
  workers: number | null;
  /** Explicit --source-ips, or [] to choose. */
  sourceIps: readonly string[];
  targetHosts: readonly string[];
  /** Distinct target endpoints (host:port); each is its own destination for port accounting. */
  targetEndpoints: number;
  facts: SystemFacts;
}

export interface PreflightResult {
  workers: number;
  sourceIps: string[];
  problems: string[];
  advice: string[];
  /** What was checked, for `herd doctor`. */
  checks: { name: string; need: string; have: string; ok: boolean; /** Passes, but worth a look. */ warning?: true }[];
}

/** Sockets each worker keeps besides device connections (IPC, stdio, timers' fds…). */
const FD_HEADROOM = 200;
/**
 * Above ~14,000 connections per source/destination pair Linux connect() searches for a port on every
 * call (measured: ~28,000 connects/s at 14k, ~6,000/s at 18k); this leaves a margin.
 */
export const CHEAP_PORTS_PER_PAIR = 12_000;
/** Rough user-space cost of one held connection in a worker (~6.9 KB measured for a raw socket + mqtt-packet). */
const BYTES_PER_CONNECTION = 8 * 1024;
/**
 * Connections per automatic loopback source address. Binding no longer slows down with the count
 * (the JavaScript transports bind explicit ports, the native core lets connect() pick), but a
 * fresh address per 5,000 keeps the ports a run reuses few, so TIME_WAIT left by its own earlier
 * connections rarely costs a retry.
 */
export const CHEAP_BOUND_PER_ADDRESS = 5_000;
/** Share of a source address's ephemeral ports past which a run is advised to add addresses. */
const CROWDED_PORT_SHARE = 0.8;
/** TIME_WAIT sockets on one source address from which connects that bind it measurably slow down. */
export const TIME_WAIT_WARN_PER_ADDRESS = 5_000;
/** Spread over at most this many automatic loopback source addresses. */
const MAX_AUTO_SOURCES = 254;

export function preflight(i: PreflightInput): PreflightResult {
  const problems: string[] = [];
  const advice: string[] = [];
  const checks: PreflightResult['checks'] = [];
  const f = i.facts;

  // Open files: each worker process holds its share of the peak.
  const fdSoft = f.openFileLimit.soft ?? 1_000_000;
  const perWorkerCap = Math.max(1, fdSoft - FD_HEADROOM);
  const neededWorkers = Math.max(1, Math.ceil(i.peakConcurrent / perWorkerCap));
  // Chosen workers never outnumber the cores: more would only take turns on the CPU and lag. When
  // the open-file limit would need more, that is a problem with both fixes named, not a silent
  // fleet of processes (a low `ulimit -n` once made 36 workers on 2 cores).
  const workers = i.workers ?? Math.min(f.cores, Math.max(1, Math.ceil(i.peakConcurrent / 500)));
  if (i.workers === null && neededWorkers > f.cores) {
    problems.push(
      `the plan holds ${i.peakConcurrent} connections but \`ulimit -n\` ${fdSoft} allows ${perWorkerCap} per worker, ${perWorkerCap * workers} for ` +
        `${workers} worker${workers === 1 ? '' : 's'} (one per core): raise \`ulimit -n\` to ${Math.ceil(i.peakConcurrent / workers) + FD_HEADROOM}, ` +
        `or pass --workers ${neededWorkers} (workers sharing cores lag sooner)`,
    );
  }
  if (i.workers !== null && workers > f.cores) {
    advice.push(
      `--workers ${workers} on ${f.cores} cores: workers sharing cores lag sooner, and the run will say if that decided a threshold`,
    );
  }
  const perWorker = Math.ceil(i.peakConcurrent / workers);
  const fdOk = perWorker <= perWorkerCap;
  checks.push({ name: 'open files per worker', need: `${perWorker}`, have: `${fdSoft} (ulimit -n)`, ok: fdOk });
  if (!fdOk && i.workers !== null) {
    problems.push(
      `each of ${workers} worker${workers === 1 ? '' : 's'} would hold ${perWorker} connections but a process may open ${fdSoft} files: ` +
        `use --workers ${neededWorkers} or more, or raise \`ulimit -n\``,
    );
  }

  // Ephemeral ports per source/destination pair.
  const range = f.ephemeralPortRange;
  const portsPerAddress = range ? range[1] - range[0] + 1 : 28_000;
  const loopback = i.targetHosts.every(isLoopbackHost);
  let sourceIps = [...i.sourceIps];
  const pairs = (sources: number): number => Math.max(1, sources) * Math.max(1, i.targetEndpoints);
  if (sourceIps.length === 0 && loopback && i.peakConcurrent / pairs(1) > CHEAP_PORTS_PER_PAIR) {
    // A bound source address holds a port per socket whatever the destination.
    const want = Math.min(MAX_AUTO_SOURCES, Math.ceil(i.peakConcurrent / CHEAP_BOUND_PER_ADDRESS));
    sourceIps = freshLoopbackSources(want, f.timeWaitByIp);
    advice.push(
      `spreading connections over ${sourceIps.length} loopback source addresses (${sourceIps[0]}…${sourceIps.at(-1)}) to keep ephemeral ports cheap`,
    );
  }
  // Node binds before connecting when given a source address, so each socket holds a port on its
  // source address whatever the destination (libuv sets no IP_BIND_ADDRESS_NO_PORT).
  const perSource =
    sourceIps.length > 0 ? Math.ceil(i.peakConcurrent / sourceIps.length) : Math.ceil(i.peakConcurrent / pairs(1));
  const portOk = perSource <= portsPerAddress;
  checks.push({
    name: sourceIps.length > 0 ? 'ephemeral ports per source address' : 'ephemeral ports per source/destination pair',
    need: `${perSource}`,
    have: `${portsPerAddress} (${range ? `${range[0]}–${range[1]}` : 'assumed'})`,
    ok: portOk,
  });
  if (!portOk) {
    const want = Math.ceil(i.peakConcurrent / CHEAP_BOUND_PER_ADDRESS);
    problems.push(
      `${perSource} connections per source address exceed the ${portsPerAddress} ephemeral ports: ` +
        (loopback
          ? `use --source-ips 127.0.0.2-127.0.0.${Math.min(254, want + 1)}`
          : `add source addresses with --source-ips`),
    );
  } else if (sourceIps.length > 0 && perSource > CROWDED_PORT_SHARE * portsPerAddress) {
    advice.push(
      `${perSource} connections per source address use most of its ${portsPerAddress} ephemeral ports: a port another socket holds ` +
        `(TIME_WAIT included) makes an attempt retry the next one, and a worker out of ports fails it (ESOURCEPORTS); ` +
        `use ${Math.ceil(i.peakConcurrent / CHEAP_BOUND_PER_ADDRESS)} or more --source-ips`,
    );
  } else if (perSource > CHEAP_PORTS_PER_PAIR) {
    advice.push(
      `${perSource} connections per source address: past ~${CHEAP_PORTS_PER_PAIR} Linux connect() scans for free ports and slows down; more --source-ips helps`,
    );
  }

  // TIME_WAIT left by earlier runs poisons a source address herd binds (measured: ~3 ms CPU per
  // connect with ~18,700 TIME_WAIT sockets, 329 connects/s instead of 8,017/s), because bind() must
  // find a port free of them. An unbound connect() may share a port with TIME_WAIT sockets to other
  // destinations, so only bound addresses are checked, and only thousands on one warn.
  const checkedSources = sourceIps;
  const poisoned = checkedSources.filter((ip) => (f.timeWaitByIp.get(ip) ?? 0) >= TIME_WAIT_WARN_PER_ADDRESS);
  checks.push({
    name: 'TIME_WAIT on source addresses',
    need: `< ${TIME_WAIT_WARN_PER_ADDRESS} each`,
    have:
      checkedSources.length === 0
        ? 'ok (no source address bound)'
        : poisoned.length === 0
          ? 'ok'
          : poisoned.map((ip) => `${ip}: ${f.timeWaitByIp.get(ip)}`).join(', '),
    ok: true,
    ...(poisoned.length > 0 ? { warning: true } : {}),
  });
  if (poisoned.length > 0) {
    const counts = poisoned.map((ip) => `${ip} holds ${(f.timeWaitByIp.get(ip) ?? 0).toLocaleString('en')}`).join(', ');
    const fresh = loopback
      ? freshLoopbackSources(Math.max(1, Math.ceil(i.peakConcurrent / CHEAP_BOUND_PER_ADDRESS)), f.timeWaitByIp)
      : [];
    advice.push(
      `warning: ${counts} TIME_WAIT sockets from earlier connections (they clear within ~60 s); connects from ${poisoned.length === 1 ? 'it' : 'them'} are slower: ` +
        (fresh.length > 0 ? `use --source-ips ${sourceIpsSpec(fresh)}` : 'wait a minute or pick other --source-ips'),
    );
  }

  // Memory.
  const memNeed = i.peakConcurrent * BYTES_PER_CONNECTION + workers * 60 * 1024 * 1024;
  const memOk = memNeed < f.freeMemoryBytes * 0.8;
  // Advice, not a refusal (free memory is a moment's reading): a warning, never a ✗ beside "Ready to run".
  checks.push({
    name: 'memory',
    need: `${Math.ceil(memNeed / 1048576)} MiB`,
    have: `${Math.floor(f.freeMemoryBytes / 1048576)} MiB free`,
    ok: true,
    ...(memOk ? {} : { warning: true as const }),
  });
  if (!memOk)
    advice.push(
      `the run may need ~${Math.ceil(memNeed / 1048576)} MiB but ${Math.floor(f.freeMemoryBytes / 1048576)} MiB are free`,
    );

  checks.push({
    name: 'peak connect rate',
    need: `${i.peakConnectRatePerS}/s`,
    have: `~${(workers * 5_000).toLocaleString('en')}/s (rough, ${workers} worker${workers === 1 ? '' : 's'})`,
    ok: true,
    ...(i.peakConnectRatePerS > workers * 5_000 ? { warning: true as const } : {}),
  });
  if (i.peakConnectRatePerS > workers * 5_000) {
    advice.push(
      `peak of ${i.peakConnectRatePerS} connects/s is above what ${workers} worker${workers === 1 ? '' : 's'} usually open; watch for schedule lag (the run will say if herd was the bottleneck)`,
    );
  }
  return { workers, sourceIps, problems, advice, checks };
}

/** Picks loopback source addresses from 127.0.0.2 up, skipping ones with many TIME_WAIT sockets. */
export function freshLoopbackSources(count: number, timeWait: ReadonlyMap<string, number>): string[] {
  const out: string[] = [];
  for (let n = 2; out.length < count && n < 65_000; n++) {
    const ip = `127.0.${Math.floor(n / 256)}.${n % 256}`;
    if (n % 256 === 0 || n % 256 === 255) continue;
    if ((timeWait.get(ip) ?? 0) > 100) continue;
    out.push(ip);
  }
  return out;
}

/** The shortest --source-ips spelling of a list: a range when no address in it was skipped. */
export function sourceIpsSpec(ips: readonly string[]): string {
  const n = (ip: string): number => ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
  if (ips.length === 1) return ips[0] as string;
  const contiguous = ips.every((ip, k) => k === 0 || n(ip) === n(ips[k - 1] as string) + 1);
  return contiguous ? `${ips[0]}-${ips.at(-1)}` : ips.join(',');
}
