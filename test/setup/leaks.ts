/**
 * A test file fails when it leaves a socket, server, timer or child process behind: what was open
 * before the file's first test must be all that is open after its last hook. Closing is
 * asynchronous, so leftovers get a short bounded wait before they count.
 */
import { afterAll, beforeAll, expect } from 'vitest';
import { childrenOf, isAlive } from '../helpers/procs.js';

/** Handle kinds a test can leak; others (the runner's own pipes, fs requests) are not counted. */
const WATCHED = new Set([
  'TCPSocketWrap',
  'TCPServerWrap',
  'TCPWRAP',
  'TLSWrap',
  'UDPWrap',
  'ProcessWrap',
  'PipeServerWrap',
]);
const SETTLE_MS = 2_000;

function watched(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) {
    if (WATCHED.has(kind)) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  return counts;
}

function leftovers(before: Map<string, number>): string[] {
  const out: string[] = [];
  for (const [kind, n] of watched()) {
    const extra = n - (before.get(kind) ?? 0);
    if (extra > 0) out.push(`${extra} × ${kind}`);
  }
  for (const c of childrenOf(process.pid))
    if (isAlive(c.pid)) out.push(`child process ${c.pid}: ${c.cmdline.slice(0, 120)}`);
  out.push(...timerLeftovers());
  return out;
}

/**
 * Timers are told apart one by one: the runner has timers of its own, so counts would hide a
 * leak. Every timer made while the file runs is tracked until it fires or is cleared; one still
 * pending and keeping the process alive (not unref'd) at the end is a leak.
 */
const pendingTimers = new Map<NodeJS.Timeout, string>();
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;
const realSetInterval = globalThis.setInterval;
const realClearInterval = globalThis.clearInterval;
function where(): string {
  const line = new Error().stack
    ?.split('\n')
    .slice(3)
    .find((l) => !l.includes('node:internal') && !l.includes('/node_modules/'));
  return line?.trim() ?? 'unknown';
}
globalThis.setTimeout = ((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
  const t = realSetTimeout(
    (...a: unknown[]) => {
      pendingTimers.delete(t);
      fn(...a);
    },
    ms,
    ...args,
  );
  pendingTimers.set(t, `setTimeout(${ms ?? 0} ms) ${where()}`);
  return t;
}) as typeof setTimeout;
globalThis.clearTimeout = ((t?: NodeJS.Timeout | string | number) => {
  if (t !== undefined && typeof t === 'object') pendingTimers.delete(t);
  realClearTimeout(t);
}) as typeof clearTimeout;
globalThis.setInterval = ((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
  const t = realSetInterval(fn, ms, ...args);
  pendingTimers.set(t, `setInterval(${ms ?? 0} ms) ${where()}`);
  return t;
}) as typeof setInterval;
globalThis.clearInterval = ((t?: NodeJS.Timeout | string | number) => {
  if (t !== undefined && typeof t === 'object') pendingTimers.delete(t);
  realClearInterval(t);
}) as typeof clearInterval;

function timerLeftovers(): string[] {
  return [...pendingTimers].filter(([t]) => t.hasRef()).map(([, what]) => `timer ${what}`);
}

let before = new Map<string, number>();
const childrenBefore = new Set<number>();

beforeAll(() => {
  before = watched();
  for (const c of childrenOf(process.pid)) childrenBefore.add(c.pid);
});

afterAll(async () => {
  const until = Date.now() + SETTLE_MS;
  let left = leftovers(before).filter((l) => !childrenBefore.has(Number(/^child process (\d+)/.exec(l)?.[1])));
  while (left.length > 0 && Date.now() < until) {
    await new Promise((r) => realSetTimeout(r, 50).unref());
    left = leftovers(before).filter((l) => !childrenBefore.has(Number(/^child process (\d+)/.exec(l)?.[1])));
  }
  expect(left, 'the test file left these open').toEqual([]);
});
