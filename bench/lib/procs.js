/**
 * Small process and network helpers for the bench: free loopback ports, /proc CPU times, waiting
 * for a listener, and ending a child we started (by its PID, bounded).
 */
import * as net from 'node:net';
import { readFileSync } from 'node:fs';

/** Clock ticks per second for /proc/<pid>/stat utime and stime (USER_HZ is 100 on Linux). */
const TICKS_PER_S = 100;

/** @returns {Promise<number>} */
export function freePort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = /** @type {net.AddressInfo} */ (srv.address());
      srv.close(() => resolve(addr.port));
    });
  });
}

/** Resolves once something accepts TCP connections on host:port, or rejects after timeoutMs. */
export async function waitForListener(host, port, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise((resolve) => {
      const s = net.connect({ host, port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`nothing listened on ${host}:${port} within ${timeoutMs} ms`);
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * CPU time of one process from /proc/<pid>/stat, in µs (10 ms resolution), or null when gone.
 * @returns {number | null}
 */
export function procCpuUs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces; fields after the closing parenthesis are fixed.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    return ((utime + stime) * 1e6) / TICKS_PER_S;
  } catch {
    return null;
  }
}

/**
 * Ends a child process we started: SIGTERM, then SIGKILL after graceMs. Never signals anything else.
 * @param {import('node:child_process').ChildProcess} child
 */
export async function endChild(child, graceMs = 3000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(t);
}

/** Median of a non-empty list of numbers. */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}
