/**
 * Which URLs each cohort's devices connect to: the scenario's target URL, or the embedded
 * target's listeners of the cohort's transport (one per target process, devices spread over
 * them). Everything is validated here, in the coordinator, so a bad TLS file or a transport the
 * target does not offer is bad input before any worker starts.
 */
import { join } from 'node:path';
import { HerdError } from '../errors.js';
import { prepareTarget } from '../protocols/kinds.js';
import type { TlsSettings } from '../protocols/transports/tls-options.js';
import type { ResolvedScenario } from '../results/resolved-scenario.js';
import type { EmbeddedTarget } from '../target/spawn.js';
import { PACKAGE_ROOT } from '../util/paths.js';
import { SCHEMES, type DeviceKind, type TransportScheme } from '../util/target-url.js';

/** The embedded target's listener for each device protocol and transport. */
const EMBEDDED_KIND: Record<DeviceKind, Partial<Record<TransportScheme, string>>> = {
  mqtt: { mqtt: 'mqtt', mqtts: 'mqtts', ws: 'mqttWs', wss: 'mqttWss' },
  websocket: { ws: 'ws', wss: 'wss' },
};

/** The CA that signs the embedded target's fixture certificate. */
export const EMBEDDED_CA = join(PACKAGE_ROOT, 'fixtures', 'tls', 'ca.crt');

/** Transports the scenario's cohorts use. */
export function transportsUsed(s: ResolvedScenario): Set<TransportScheme> {
  return new Set(s.cohorts.map((c) => c.device.transport));
}

/**
 * Returns the scenario with embedded defaults filled in (the fixture CA for TLS devices) and the
 * target URLs per cohort.
 */
export function resolveRunTargets(
  s: ResolvedScenario,
  embedded: EmbeddedTarget | null,
  remoteUrl: string | null,
): { scenario: ResolvedScenario; perCohort: string[][] } {
  const problems: string[] = [];
  const cohorts = s.cohorts.map((c) => {
    if (embedded === null || !SCHEMES[c.device.transport].secure || (c.device.tls as { ca?: string } | null)?.ca)
      return c;
    return { ...c, device: { ...c.device, tls: { ...(c.device.tls ?? {}), ca: EMBEDDED_CA } } };
  });
  const perCohort = cohorts.map((c, i) => {
    let urls: string[];
    if (embedded === null) urls = [remoteUrl as string];
    else {
      const kind = EMBEDDED_KIND[c.device.protocol][c.device.transport];
      urls = embedded.endpoints.filter((e) => e.kind === kind).map((e) => e.url);
      if (urls.length === 0) {
        problems.push(
          `cohorts[${i}].device.transport: the embedded target has no ${c.device.transport}:// listener for ${c.device.protocol} devices (set target.embedded.tls: true for mqtts/wss)`,
        );
      }
    }
    for (const url of [...urls, ...(c.targets ?? [])]) {
      try {
        prepareTarget(
          c.device.protocol,
          url,
          (c.device.tls ?? undefined) as TlsSettings | undefined,
          c.targets?.includes(url) ? `cohorts[${i}].targets` : 'target',
        );
      } catch (err) {
        if (err instanceof HerdError) problems.push(err.message, ...err.details);
        else throw err;
      }
    }
    return urls;
  });
  if (problems.length > 0)
    throw new HerdError('E_SCENARIO_INVALID', 'the scenario cannot reach its target as configured', [
      ...new Set(problems),
    ]);
  return { scenario: { ...s, cohorts }, perCohort };
}

/** Embedded target options with TLS listeners switched on when a cohort needs them. */
export function embeddedOptionsFor(s: ResolvedScenario): Record<string, unknown> {
  const o = { ...(s.embeddedTarget ?? {}) };
  const t = transportsUsed(s);
  if ([...t].some((s) => SCHEMES[s].secure) && o.tls === undefined) o.tls = true;
  return o;
}

/**
 * The checks resolveRunTargets makes, before any target exists: TLS files and versions, and a
 * device kind against its URL's scheme. Used by `herd validate` and by `herd run` before it
 * creates --out; opens no socket and resolves no name. The embedded target's listeners are
 * stood in for by a loopback URL of each cohort's transport.
 */
export function checkRunTargets(s: ResolvedScenario): void {
  if (s.target !== 'embedded') {
    resolveRunTargets(s, null, s.target);
    return;
  }
  const problems: string[] = [];
  s.cohorts.forEach((c) => {
    const tls = { ...(SCHEMES[c.device.transport].secure ? { ca: EMBEDDED_CA } : {}), ...(c.device.tls ?? {}) };
    for (const url of [`${c.device.transport}://127.0.0.1:1`, ...(c.targets ?? [])]) {
      try {
        prepareTarget(
          c.device.protocol,
          url,
          tls as TlsSettings,
          c.targets?.includes(url) ? 'cohorts[].targets' : 'target',
        );
      } catch (err) {
        if (err instanceof HerdError) problems.push(err.message, ...err.details);
        else throw err;
      }
    }
  });
  if (problems.length > 0)
    throw new HerdError('E_SCENARIO_INVALID', 'the scenario cannot reach its target as configured', [
      ...new Set(problems),
    ]);
}
