import { HerdError } from '../errors.js';
import type { Overrides } from '../scenario/resolve.js';

/** --devices and --scale, shared by run, validate and doctor so all three size the fleet alike. */
export function sizeOverrides(f: { devices?: string | undefined; scale?: string | undefined }): Overrides {
  const o: Overrides = {};
  if (f.devices !== undefined) o.devices = parseFlagNumber(f.devices, '--devices', { min: 1, max: 10_000_000 });
  if (f.scale !== undefined) o.scale = parseFlagScale(f.scale);
  return o;
}

export function parseFlagNumber(value: string, flag: string, { min = 1, max = Number.MAX_SAFE_INTEGER } = {}): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new HerdError(
      'E_FLAG',
      `${flag}: expected a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

export function parseFlagScale(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || !(n > 0) || n > 1000) {
    throw new HerdError(
      'E_FLAG',
      `--scale: expected a number greater than 0 and at most 1000, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

/** "--shard 3/8": the 3rd of 8 slices (1-based), returned 0-based. */
export function parseFlagShard(value: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(value.trim());
  const i = m ? Number(m[1]) : NaN;
  const n = m ? Number(m[2]) : NaN;
  if (!m || !(n >= 1 && n <= 10_000) || !(i >= 1 && i <= n)) {
    throw new HerdError(
      'E_FLAG',
      `--shard: expected I/N with 1 ≤ I ≤ N ≤ 10000, e.g. 3/8, got ${JSON.stringify(value)}`,
    );
  }
  return { index: i - 1, count: n };
}

/** "--start-at 2026-11-21T10:00:00Z": an ISO 8601 time with a zone. */
export function parseFlagStartAt(value: string, nowMs: number): number {
  const ms = Date.parse(value);
  if (!/T.*(Z|[+-]\d\d:?\d\d)$/.test(value.trim()) || Number.isNaN(ms)) {
    throw new HerdError(
      'E_FLAG',
      `--start-at: expected an ISO 8601 time with a time zone, e.g. 2026-11-21T10:00:00Z, got ${JSON.stringify(value)}`,
    );
  }
  // A time already gone would start this shard at once, out of step with the others: said, not ignored.
  if (ms < nowMs) {
    throw new HerdError(
      'E_FLAG',
      `--start-at: ${value} is ${Math.ceil((nowMs - ms) / 1000)} s in the past; expected a time still to come (every shard waits for it)`,
    );
  }
  if (ms - nowMs > 24 * 3600 * 1000) {
    throw new HerdError('E_FLAG', `--start-at: ${value} is more than 24 hours away`);
  }
  return ms;
}

/** "[host:]port" to listen on; the host must be loopback unless written out (never by default). */
export function parseFlagListen(value: string, flag: string): { host: string; port: number } {
  const m = /^(?:(\[[0-9a-fA-F:]+\]|[0-9.]+|localhost):)?(\d+)$/.exec(value.trim());
  if (!m)
    throw new HerdError(
      'E_FLAG',
      `${flag}: expected PORT or HOST:PORT, e.g. 9464 or 127.0.0.1:9464, got ${JSON.stringify(value)}`,
    );
  const host = (m[1] ?? '127.0.0.1').replace(/^\[|\]$/g, '');
  const port = parseFlagNumber(m[2] as string, flag, { min: 0, max: 65535 });
  return { host: host === 'localhost' ? '127.0.0.1' : host, port };
}
