/**
 * What a device does when an MQTT 5 server steers it (issue 16), as its reconnect policy (or SDK
 * preset) says: back off further on the throttling codes, move to the Server Reference on
 * 0x9C/0x9D — only when it names one of the run's own loopback targets, never anywhere else (that
 * is counted, not followed) — and adopt the Server Keep Alive (the MQTT 5 spec makes it a MUST).
 * Pure: signal + rules + targets → a decision the runner applies.
 */
import type { ServerSignal } from '../protocols/mqtt/server-signals.js';
import { isIP } from 'node:net';

export interface SteeringRules {
  /** Reason codes (CONNACK or DISCONNECT) after which the backoff takes one extra step. */
  backoffOn: readonly number[];
  followServerReference: boolean;
  adoptServerKeepAlive: boolean;
}

/** Without a policy saying otherwise: only what the MQTT 5 spec requires of every client. */
export const SPEC_STEERING: SteeringRules = { backoffOn: [], followServerReference: false, adoptServerKeepAlive: true };

export interface Steering {
  /** Counted by this key in results.json `serverSignals` (e.g. "DISCONNECT_96", "CONNACK_00"). */
  key: string;
  backoffSteps: number;
  /** Index into `targets` to move to, or null. */
  moveTo: number | null;
  /** A Server Reference that was not followed (another address, or the policy does not move). */
  referenceRefused: boolean;
  keepaliveUs: number | null;
}

const REDIRECT_CODES = new Set([0x9c, 0x9d]);

export function steer(s: ServerSignal, rules: SteeringRules, targets: readonly string[]): Steering {
  const key = `${s.packet.toUpperCase()}_${s.reasonCode.toString(16).toUpperCase().padStart(2, '0')}`;
  let moveTo: number | null = null;
  let referenceRefused = false;
  if (REDIRECT_CODES.has(s.reasonCode) && s.serverReference !== null) {
    const i = rules.followServerReference ? referencedTarget(s.serverReference, targets) : -1;
    if (i >= 0) moveTo = i;
    else referenceRefused = true;
  }
  return {
    key,
    backoffSteps: rules.backoffOn.includes(s.reasonCode) ? 1 : 0,
    moveTo,
    referenceRefused,
    keepaliveUs: rules.adoptServerKeepAlive && s.serverKeepAliveS !== null ? s.serverKeepAliveS * 1e6 : null,
  };
}

/**
 * The run target a Server Reference names: "host:port" or a URL, matched on host and port against
 * the run's targets, and only on loopback — a reference elsewhere is never followed (network rule).
 */
export function referencedTarget(reference: string, targets: readonly string[]): number {
  const ref = hostPort(reference.includes('://') ? reference : `mqtt://${reference}`);
  if (ref === null || !isLoopbackHost(ref.host)) return -1;
  return targets.findIndex((t) => {
    const hp = hostPort(t);
    return hp !== null && hp.host === ref.host && hp.port === ref.port;
  });
}

function hostPort(url: string): { host: string; port: string } | null {
  try {
    const u = new URL(url);
    return { host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port || (u.protocol === 'mqtts:' ? '8883' : '1883') };
  } catch {
    return null;
  }
}

function isLoopbackHost(host: string): boolean {
  return host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}
