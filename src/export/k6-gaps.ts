/**
 * What an exported k6 script leaves out (pure): every scenario feature k6 or xk6-mqtt cannot
 * express, named by the scenario field a user wrote (`waves[1] (outage)`, `device.cleanSession`,
 * `cohorts[0].reconnect`, `thresholds.recovery.p99`), never by herd's internal names. The CLI
 * prints them on stderr and `--strict` refuses to export when there is any; the script's header
 * lists them too. Approximations (the script does the thing, slightly differently) are not gaps.
 */
import type { ResolvedCohort, ResolvedDevice, ResolvedScenario } from '../results/resolved-scenario.js';
import type { Threshold } from '../scenario/threshold-parse.js';
import { mapThreshold } from './k6-thresholds.js';

export interface K6Gap {
  /** The scenario field, as written in the scenario file. */
  field: string;
  /** What the script does instead, and why. */
  why: string;
}

/** Resolved device field → its name in the scenario file. */
const DEVICE_FIELD: Readonly<Record<string, string>> = {
  keepaliveUs: 'keepalive',
  connectTimeoutUs: 'connectTimeout',
  sessionExpiryS: 'sessionExpiry',
};

const CONNECT_WAVES: readonly string[] = ['ramp', 'spike', 'steps', 'rate'];
const KNOWN_SCENARIO = [
  'version',
  'name',
  'description',
  'target',
  'seed',
  'scale',
  'devices',
  'device',
  'cohorts',
  'waves',
  'holdUs',
  'durationUs',
  'thresholds',
  // Derived from outage waves (listed under waves[i]) and the embedded target's options (target.embedded).
  'outageWindows',
  'embeddedTarget',
  // How herd reads what happened, not load a script makes: nothing to map.
  'observedOutages',
  // Listed on their own below when there are any.
  'declaredOutages',
];
const KNOWN_WAVE: Record<string, readonly string[]> = {
  outage: ['type', 'name', 'atUs', 'share', 'cohort', 'mode', 'offlineUs'],
  churn: ['type', 'name', 'atUs', 'overUs', 'perMinute'],
  ramp: ['type', 'name', 'atUs', 'devices', 'overUs'],
  spike: ['type', 'name', 'atUs', 'devices'],
  steps: ['type', 'name', 'atUs', 'devices', 'steps', 'everyUs'],
  rate: ['type', 'name', 'atUs', 'devices', 'rate', 'overUs', 'arrival'],
};

export function k6Gaps(s: ResolvedScenario, thresholds: readonly Threshold[]): K6Gap[] {
  const gaps: K6Gap[] = [];
  if (s.target === 'embedded' && s.embeddedTarget !== null && Object.keys(s.embeddedTarget).length > 0) {
    gaps.push({
      field: 'target.embedded',
      why:
        `the embedded target's options (${Object.keys(s.embeddedTarget).join(', ')}) belong to herd's target, ` +
        'not to a k6 script; run `herd target` with them and pass its URL',
    });
  }
  gaps.push(...unknownFields(s, KNOWN_SCENARIO, ''));
  if (s.declaredOutages.length > 0)
    gaps.push({
      field: 'declaredOutages',
      why: `${s.declaredOutages.length} declared outage(s): the script runs no commands; break and restore the target yourself`,
    });
  gaps.push(...deviceGaps(s.device, 'device.'));
  gaps.push(...cohortGaps(s.cohorts, s.device));
  s.waves.forEach((w, i) => {
    const type = (w as { type: string }).type;
    const at = `waves[${i}] (${type})`;
    if (w.type === 'outage') {
      const who = w.cohort === null ? 'the fleet' : `cohort "${w.cohort}"`;
      gaps.push({
        field: at,
        why:
          `"${w.name}": ${w.mode}, ${pct(w.share)} of ${who}, offline ${w.offlineUs / 1e6}s — ` +
          'k6 cannot cut connections it holds from outside an iteration; the script skips it',
      });
    } else if (w.type === 'churn') {
      gaps.push({
        field: at,
        why:
          `"${w.name}": ${pct(w.perMinute)}/min over ${w.overUs / 1e6}s — ` +
          'devices do not drop and reconnect in the script',
      });
    } else if (!CONNECT_WAVES.includes(type)) {
      gaps.push({ field: at, why: 'no k6 mapping for this wave type; the script skips it' });
    } else if (w.type === 'rate' && w.arrival === 'poisson') {
      gaps.push({
        field: `waves[${i}].arrival`,
        why:
          `poisson: k6 arrival-rate executors are deterministic; the script starts the ${w.devices} devices ` +
          `evenly at the mean rate ${Math.round(w.rate * 1000) / 1000}/s`,
      });
    }
    const known = KNOWN_WAVE[type];
    if (known) gaps.push(...unknownFields(w, known, `waves[${i}].`));
  });
  for (const t of thresholds) {
    const r = mapThreshold(t);
    if (typeof r === 'string') gaps.push({ field: `thresholds.${t.metric}`, why: `"${t.expression}" — ${r}` });
  }
  return gaps;
}

/** What the script cannot do with one device configuration (`prefix`: "device." or "cohorts[i].device."). */
function deviceGaps(d: ResolvedDevice, prefix: string): K6Gap[] {
  const gaps: K6Gap[] = [];
  const add = (field: string, why: string): void => {
    gaps.push({ field: prefix + field, why });
  };
  const protocol = d.protocol as string;
  if (protocol !== 'mqtt' && protocol !== 'ws') add('protocol', `"${protocol}": no k6 mapping; every iteration throws`);
  if (d.transport !== undefined && d.transport !== 'mqtt') {
    add('transport', `${d.transport}: not mapped; the script connects with the target URL's own scheme`);
  }
  if (protocol === 'mqtt') {
    if (d.mqttVersion !== 4) add('mqttVersion', `${d.mqttVersion}: xk6-mqtt (Eclipse Paho) speaks MQTT 3.1.1 only`);
    // xk6-mqtt only ever *sets* clean_session, so false leaves Paho's default (true).
    if (!d.cleanSession) add('cleanSession', 'false: xk6-mqtt can only turn clean sessions on; no persistent session');
    if (d.sessionExpiryS !== null) add('sessionExpiry', 'MQTT 5 session expiry: xk6-mqtt speaks MQTT 3.1.1 only');
  }
  for (const k of ['clientId', 'username', 'password'] as const) {
    if (d[k]?.includes('{cohort}')) add(k, '{cohort} stays as written: the script has no cohorts');
  }
  if (d.tls !== null) {
    add('tls', "xk6-mqtt has no TLS options of its own; set them with k6's (tlsAuth, insecureSkipTLSVerify…)");
  }
  if (d.publish !== null) add('publish', "herd's exporter does not map telemetry or its end-to-end message count");
  if (d.requests !== null) add('requests', "cloud → device requests need herd's requester connection; not exported");
  if (d.downlink !== null) {
    add('downlink', "the cloud's messages to online and offline devices come from herd's side; k6 only has devices");
  }
  if (protocol === 'ws' && d.hello !== null) add('hello', 'the script opens the WebSocket and sends no hello frame');
  if (protocol === 'ws' && d.subprotocol !== null) add('subprotocol', 'the script offers no WebSocket subprotocol');
  gaps.push(...unknownFields(d, KNOWN_DEVICE, prefix));
  return gaps;
}

// engine picks herd's own connect path (JS or its native core): a k6 script has its own client, nothing to map.
const KNOWN_DEVICE = [
  'protocol',
  'mqttVersion',
  'clientId',
  'username',
  'password',
  'keepaliveUs',
  'cleanSession',
  'connectTimeoutUs',
  // herd's own reuse of a lookup; the script's names are resolved by k6 itself (its `dns` option).
  'dnsTtlUs',
  'transport',
  'engine',
  'tls',
  'hello',
  'subprotocol',
  'sessionExpiryS',
  'publish',
  'requests',
  'downlink',
];

function cohortGaps(cohorts: readonly ResolvedCohort[], base: ResolvedDevice): K6Gap[] {
  const gaps: K6Gap[] = [];
  // One reconnect policy for every cohort is the scenario's `reconnect` (or its only cohort's).
  const shared = cohorts.every((c) => JSON.stringify(c.reconnect) === JSON.stringify(cohorts[0]?.reconnect));
  const why = (policy: string): string =>
    `policy "${policy}" — a k6 iteration is one connect; the script never reconnects ` +
    "(xk6-mqtt's own auto-reconnect has no backoff or jitter settings)";
  const first = cohorts[0];
  if (shared && first !== undefined && first.reconnect.policy !== 'none') {
    gaps.push({ field: 'reconnect', why: why(first.reconnect.policy) });
  }
  cohorts.forEach((c, i) => {
    if (cohorts.length > 1) {
      // Only the fields the cohort changes: the scenario-wide ones are already listed under device.
      const own = deviceGaps(c.device, `cohorts[${i}].device.`).filter((g) => !sameField(g.field, c.device, base));
      gaps.push(...own);
      for (const k of Object.keys(c.device) as (keyof ResolvedDevice)[]) {
        if (JSON.stringify(c.device[k]) === JSON.stringify(base[k])) continue;
        const field = `cohorts[${i}].device.${DEVICE_FIELD[k] ?? k}`;
        if (!gaps.some((g) => g.field === field)) {
          gaps.push({ field, why: `cohort "${c.name}": the script gives every device the scenario-wide value` });
        }
      }
    }
    if (!shared && c.reconnect.policy !== 'none') {
      gaps.push({ field: `cohorts[${i}].reconnect`, why: why(c.reconnect.policy) });
    }
    if (c.targets !== null && c.targets.length > 0) {
      gaps.push({
        field: `cohorts[${i}].targets`,
        why: `failover to ${c.targets.join(', ')} is not reproduced; the script connects to the one target`,
      });
    }
  });
  return gaps;
}

/** True when a cohort's gap comes from a device value equal to the scenario-wide one. */
function sameField(field: string, d: ResolvedDevice, base: ResolvedDevice): boolean {
  const name = field.slice(field.lastIndexOf('.') + 1);
  const key = (Object.keys(DEVICE_FIELD).find((k) => DEVICE_FIELD[k] === name) ?? name) as keyof ResolvedDevice;
  return JSON.stringify(d[key]) === JSON.stringify(base[key]);
}

/**
 * Fields this exporter does not know (the schema grows): listed by name, never dropped silently.
 * Absent, null, false and empty values are not listed.
 */
function unknownFields(obj: object, known: readonly string[], path: string): K6Gap[] {
  return Object.entries(obj)
    .filter(([k, v]) => !known.includes(k) && isSet(v))
    .map(([k]) => ({ field: `${path}${k}`, why: UNKNOWN_FIELD }));
}

const UNKNOWN_FIELD = "herd's k6 exporter has no mapping for this field yet; the script ignores it";

function isSet(v: unknown): boolean {
  if (v === undefined || v === null || v === false) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

function pct(share: number): string {
  return `${Math.round(share * 1000) / 10}%`;
}
