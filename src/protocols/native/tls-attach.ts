/**
 * TLS on a native attempt just opened: the native setting for its TLS options and host (an IP, or the
 * host name it was looked up by: SNI and the certificate's name, tls.ts), and whether it offers a session.
 */
import { constants } from 'node:os';
import type { ResolvedTls } from '../transports/tls-options.js';
import type { NativeRows } from './rows.js';

const EINVAL = constants.errno.EINVAL;

/** 0, or the outcome code of a failure (the attempt was dropped). */
export function attachTls(rows: NativeRows, slot: number, t: ResolvedTls, host: string): number {
  let setting: number;
  try {
    setting = rows.tls.settingFor(t, host);
  } catch {
    rows.b.abort(rows.h, slot);
    return EINVAL; // OpenSSL refused herd's own settings (resolveTls read the files): the harness's
  }
  rows.tlsSetting[slot] = setting;
  return rows.b.useTls(rows.h, slot, setting, rows.tls.offers(setting, slot));
}
