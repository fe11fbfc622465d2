import { HerdError } from '../errors.js';

/** Schemes herd can drive, one transport adapter each (protocols/registry.ts). */
export const TARGET_SCHEMES = ['mqtt', 'mqtts', 'ws', 'wss'] as const;
export type TargetScheme = (typeof TARGET_SCHEMES)[number];

export interface TargetAddress {
  url: string;
  scheme: TargetScheme;
  host: string;
  port: number;
}

const DEFAULT_PORT: Record<TargetScheme, number> = { mqtt: 1883, mqtts: 8883, ws: 80, wss: 443 };

/** Parses a target URL; throws E_TARGET_URL naming `field` when it is not one herd can use. */
export function parseTargetUrl(text: string, field = 'target'): TargetAddress {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new HerdError('E_TARGET_URL', `${field}: expected a URL like "mqtt://127.0.0.1:1883", got ${JSON.stringify(text)}`);
  }
  const scheme = u.protocol.replace(/:$/, '');
  if (!(TARGET_SCHEMES as readonly string[]).includes(scheme)) {
    throw new HerdError(
      'E_TARGET_URL',
      `${field}: unsupported scheme "${scheme}://"; supported: ${TARGET_SCHEMES.map((s) => s + '://').join(', ')}`,
    );
  }
  const s = scheme as TargetScheme;
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (host === '') throw new HerdError('E_TARGET_URL', `${field}: the URL has no host: ${JSON.stringify(text)}`);
  const port = u.port === '' ? DEFAULT_PORT[s] : Number(u.port);
  if (port === 0) throw new HerdError('E_TARGET_URL', `${field}: port 0 is not a port a device can connect to: ${JSON.stringify(text)}`);
  return { url: text, scheme: s, host, port };
}
