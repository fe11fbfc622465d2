/**
 * TIME_WAIT sockets per local address, from `ss`: what a run leaves behind on the source addresses
 * the next run binds (a source address holding ~18,700 TIME_WAIT sockets made each
 * bind-before-connect cost ~3 ms CPU). Read-only; `ss` missing means null, never a failed bench.
 */
import { execFileSync } from 'node:child_process';

/**
 * TIME_WAIT sockets whose local address is one of `addresses` (client side) and, apart, those
 * whose peer is (server side: the broker closed first).
 * @param {string[]} addresses
 * @returns {{ local: Record<string, number>, peer: Record<string, number>, total: number } | null}
 */
export function timeWaitBy(addresses) {
  let out;
  try {
    out = execFileSync('ss', ['-Htan', 'state', 'time-wait'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch {
    return null;
  }
  const local = Object.fromEntries(addresses.map((a) => [a, 0]));
  const peer = Object.fromEntries(addresses.map((a) => [a, 0]));
  let total = 0;
  for (const line of out.split('\n')) {
    // "0  0  127.0.0.2:41234  127.0.0.1:1883" (state column omitted when filtering on one state)
    const cols = line.trim().split(/\s+/);
    if (cols.length < 4) continue;
    total++;
    const l = hostOf(cols[2] ?? '');
    const p = hostOf(cols[3] ?? '');
    if (l in local) local[l]++;
    if (p in peer) peer[p]++;
  }
  return { local, peer, total };
}

function hostOf(endpoint) {
  const i = endpoint.lastIndexOf(':');
  return i === -1 ? endpoint : endpoint.slice(0, i).replace(/^\[|\]$/g, '');
}

/** One line: "TIME_WAIT 127.0.0.2 local 0 / peer 7,500 · …". */
export function formatTimeWait(tw) {
  if (tw === null) return 'TIME_WAIT: ss not available';
  const parts = Object.keys(tw.local).map((a) => `${a} local ${tw.local[a]} / peer ${tw.peer[a]}`);
  return `TIME_WAIT ${parts.join(' · ')} (all ${tw.total})`;
}
