/**
 * Credentials in a target URL (`mqtt://alice:s3cret@host:1883`): used as the MQTT username and
 * password, then stripped, so the URL herd prints and records never carries them. Also the one
 * place that says what is wrong with a target URL without echoing its password.
 */
import { HerdError } from '../errors.js';
import { parseTargetUrl } from '../util/target-url.js';
import type { ResolvedDevice, ResolvedScenario } from '../results/resolved-scenario.js';

/** `scheme://user:pass@` — the user-info part ends at the last "@" before the path. */
const USERINFO_RE = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)@/i;
/** Any URL with user-info inside free text (error messages, notices). */
const USERINFO_ANYWHERE_RE = /([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@"']*)@/gi;

export const REDACTED = '(redacted)';

/** The URL with its password replaced, for messages. */
export function redactUrl(text: string): string {
  return text.replace(USERINFO_RE, (_m, scheme: string, info: string) => `${scheme}${redactInfo(info)}@`);
}

/** Every URL password inside a text replaced (a last line of defence for printed messages). */
export function redactText(text: string): string {
  return text.replace(USERINFO_ANYWHERE_RE, (_m, scheme: string, info: string) => `${scheme}${redactInfo(info)}@`);
}

function redactInfo(info: string): string {
  const colon = info.indexOf(':');
  return colon < 0 ? info : `${info.slice(0, colon)}:***`;
}

/** What is wrong with a target URL, naming the part (scheme, host, port); null when it is usable. */
export function targetUrlProblem(text: string): string | null {
  const m = /^[a-z][a-z0-9+.-]*:\/\/(?:[^/?#]*@)?(\[[^\]]*\]|[^:/?#]*)(?::([^/?#]*))?/i.exec(text);
  const port = m?.[2];
  if (port !== undefined && port !== '' && (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65_535)) {
    return `port ${JSON.stringify(port)} is not a port: expected a number from 1 to 65535`;
  }
  if (m !== null && m[1] === '') return 'the URL has no host, e.g. "mqtt://127.0.0.1:1883"';
  try {
    parseTargetUrl(text, '');
    return null;
  } catch (err) {
    if (!(err instanceof HerdError)) throw err;
    return redactText(err.message.replace(/^: /, ''));
  }
}

export interface SplitUrl {
  url: string;
  username: string | null;
  password: string | null;
}

/** Takes the user-info out of a URL; the rest of the text is kept exactly as written. */
export function splitUrlCredentials(text: string): SplitUrl {
  const m = USERINFO_RE.exec(text);
  if (m === null) return { url: text, username: null, password: null };
  const info = m[2] as string;
  const colon = info.indexOf(':');
  const decode = (s: string): string => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  return {
    url: text.replace(USERINFO_RE, '$1'),
    username: decode(colon < 0 ? info : info.slice(0, colon)) || null,
    password: colon < 0 ? null : decode(info.slice(colon + 1)),
  };
}

/**
 * Moves URL credentials into the devices' MQTT username/password. A username or password written
 * in the scenario's device block wins (it may be a per-device template); the URL's is then unused
 * and a warning says so. Cohort failover targets must agree with each other.
 */
export function applyUrlCredentials(s: ResolvedScenario): { scenario: ResolvedScenario; warnings: string[] } {
  const warnings: string[] = [];
  const problems: string[] = [];
  const main =
    s.target === 'embedded' ? { url: 'embedded', username: null, password: null } : splitUrlCredentials(s.target);
  const withCreds = (d: ResolvedDevice, c: SplitUrl, where: string): ResolvedDevice => {
    if (c.username === null && c.password === null) return d;
    if (d.protocol === 'websocket') {
      problems.push(
        `${where}: credentials in the URL are for MQTT devices; websocket devices have no username/password`,
      );
      return d;
    }
    if ((d.username !== null && c.username !== null) || (d.password !== null && c.password !== null)) {
      warnings.push(
        `${where}: device.username/password in the scenario take precedence over the credentials in the target URL`,
      );
    }
    return { ...d, username: d.username ?? c.username, password: d.password ?? c.password };
  };
  // MQTT 3.1.1 (CONNECT, Password Flag) forbids a password without a user name, and herd's MQTT client sends none
  // alone in either version: caught here, not as a crash in every worker.
  const needsUser = (d: ResolvedDevice, c: SplitUrl, urlWhere: string, i: number): void => {
    if (d.protocol === 'websocket' || d.username !== null || c.username !== null) return;
    if (d.password === null && c.password !== null) {
      problems.push(
        `${urlWhere}: the URL has a password but no user name; expected a user name before it in the URL (MQTT sends no password without a user name)`,
      );
    } else if (d.password !== null) {
      const field = d.password === s.device.password ? 'device' : `cohorts[${i}].device`;
      problems.push(
        `${field}.password: a password needs a user name; expected ${field}.username too (MQTT sends no password without one)`,
      );
    }
  };
  const cohorts = s.cohorts.map((c, i) => {
    if (c.targets === null) {
      needsUser(c.device, main, 'target', i);
      return { ...c, device: withCreds(c.device, main, 'target') };
    }
    const split = c.targets.map(splitUrlCredentials);
    const keys = new Set(split.map((t) => `${t.username ?? ''}\u0000${t.password ?? ''}`));
    if (keys.size > 1)
      problems.push(
        `cohorts[${i}].targets: the URLs carry different credentials; a device sends one username/password to every target`,
      );
    needsUser(c.device, split[0] as SplitUrl, `cohorts[${i}].targets`, i);
    return {
      ...c,
      targets: split.map((t) => t.url),
      device: withCreds(c.device, split[0] as SplitUrl, `cohorts[${i}].targets`),
    };
  });
  if (problems.length > 0)
    throw new HerdError('E_SCENARIO_INVALID', `scenario "${s.name}" is not valid`, [...new Set(problems)]);
  return {
    scenario: { ...s, target: main.url, device: withCreds(s.device, main, 'target'), cohorts },
    warnings: [...new Set(warnings)],
  };
}

/**
 * The scenario as results.json records it: device passwords (from a URL or the file) and command
 * lines never written.
 */
export function redactScenarioSecrets(s: ResolvedScenario): ResolvedScenario {
  const hide = (d: ResolvedDevice): ResolvedDevice => (d.password === null ? d : { ...d, password: REDACTED });
  return {
    ...s,
    target: redactUrl(s.target),
    device: hide(s.device),
    cohorts: s.cohorts.map((c) => ({ ...c, device: hide(c.device), targets: c.targets?.map(redactUrl) ?? null })),
    // A command line can hold a password (`mosquitto_ctrl -P …`): never written, not even masked.
    declaredOutages: s.declaredOutages.map((o) => ({
      ...o,
      break: NOT_RECORDED,
      restore: o.restore === null ? null : NOT_RECORDED,
    })),
  };
}

export const NOT_RECORDED = '(not recorded)';
