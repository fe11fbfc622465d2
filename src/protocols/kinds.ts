/**
 * The table of device kinds, beside the transport registry (registry.ts): one row per kind names
 * its schemes, how a cohort prepares its devices' open options and how a device opens (device.ts
 * `DeviceKindRow`). The kind names are the one list in util/target-url.ts; `satisfies` makes a
 * missing or an extra row a type error. The engine asks these rows and knows no kind.
 */
import { NameCache } from './names.js';
import { HerdError } from '../errors.js';
import type { DeviceKindRow, PreparedTarget } from './device.js';
import { MQTT_KIND } from './mqtt/kind.js';
import { resolveTls, type TlsSettings } from './transports/tls-options.js';
import { WEBSOCKET_KIND } from './ws/kind.js';
import { listSchemes, parseTargetUrl, SCHEME_NAMES, SCHEMES, type DeviceKind } from '../util/target-url.js';

export const DEVICE_KIND_ROWS = {
  mqtt: MQTT_KIND,
  websocket: WEBSOCKET_KIND,
} as const satisfies Record<DeviceKind, DeviceKindRow>;

/** A table of kinds keyed by name: the shipped one, or one a test extends. */
export type DeviceKindTable = Readonly<Record<string, DeviceKindRow>>;

/** Validates a target for a device kind; reads every TLS file now. */
export function prepareTarget(
  kind: DeviceKind,
  url: string,
  tls?: TlsSettings,
  field = 'target',
  rows: DeviceKindTable = DEVICE_KIND_ROWS,
  dnsTtlUs = 0,
): PreparedTarget {
  const row = rows[kind];
  if (row === undefined) throw new Error(`internal: no device kind "${kind}" in the table of kinds`);
  const endpoint = parseTargetUrl(url, field, { name: kind, schemes: row.schemes, wsPath: row.wsPath });
  if (!endpoint.secure && tls !== undefined && Object.keys(tls).length > 0) {
    const tlsSchemes = listSchemes(SCHEME_NAMES.filter((s) => SCHEMES[s].secure));
    const why = `TLS settings were given but ${field} ${url} is not a TLS URL (TLS schemes: ${tlsSchemes})`;
    throw new HerdError('E_SCENARIO_INVALID', `device.tls: ${why}`);
  }
  const names = endpoint.hostIsIp ? null : new NameCache(dnsTtlUs);
  return { kind, endpoint, tls: endpoint.secure ? resolveTls(tls ?? {}) : null, names };
}
