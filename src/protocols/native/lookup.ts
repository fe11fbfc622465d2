/**
 * A native attempt to a host name: the target's kept answer when it is fresh (no `dns` phase, as
 * with an IP target), else the name is looked up — joining the target's lookup in flight, as on
 * the JavaScript path (names.ts: its own `dns` phase, the same failures) — then the core opens the
 * socket to the answer. The connect timeout covers the lookup: a timer of its own while the lookup
 * runs (the core keeps the rest, from the socket's open, with what is left).
 */
import { classifyError } from '../classify.js';
import type { Device } from '../device.js';
import { familyOf, type NameCache } from '../names.js';
import { CLOSED, CONNECTING, T_DNS, T_OPEN, TIMES, type NativeRows } from './rows.js';

/** The device whose attempt looks its host up, then opens with the attempt's options `O`. */
export interface LookingUp<O> extends Device {
  /** Opens the socket to `ip` with `timeoutMs` of the connect timeout left. */
  openTo(o: O, ip: string, timeoutMs: number): void;
}

/** Finds `hostName`'s address for the slot's current attempt (its start is stamped), then opens to it. */
export function lookUpThenOpen<O extends { localAddress: string | undefined }>(
  rows: NativeRows,
  d: LookingUp<O>,
  o: O,
  names: NameCache,
  hostName: string,
  timeoutMs: number,
): void {
  const slot = d.deviceId;
  // The answer's family must be the source address's, or the bind could not work.
  const family = familyOf(o.localAddress);
  const kept = names.cached(hostName, family, slot);
  if (kept !== null) {
    d.openTo(o, kept, timeoutMs);
    return;
  }
  const attempt = rows.attempt[slot] as number;
  rows.timers[slot] = setTimeout(onLookupTimeout, timeoutMs, rows, d, attempt);
  names.ask(hostName, family, slot, (err, address) => {
    // Timed out, aborted or opened again meanwhile: the answer belongs to no attempt.
    if (rows.attempt[slot] !== attempt || rows.state[slot] !== CONNECTING) return;
    rows.clearTimer(slot);
    const now = rows.owner.now();
    rows.times[slot * TIMES + T_DNS] = now;
    if (err !== null) {
      rows.state[slot] = CLOSED;
      rows.owner.onFailed(d, { ...classifyError(err, 'dns'), phase: 'dns' });
      return;
    }
    const leftMs = timeoutMs - (now - (rows.times[slot * TIMES + T_OPEN] as number)) / 1000;
    d.openTo(o, address, Math.max(1, Math.ceil(leftMs)));
  });
}

function onLookupTimeout<O>(rows: NativeRows, d: LookingUp<O>, attempt: number): void {
  const slot = d.deviceId;
  rows.timers[slot] = null;
  if (rows.attempt[slot] !== attempt || rows.state[slot] !== CONNECTING) return;
  rows.state[slot] = CLOSED;
  rows.owner.onFailed(d, { origin: 'timeout', phase: 'dns', code: 'CONNECT_TIMEOUT' });
}
