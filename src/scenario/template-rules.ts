/**
 * What MQTT and WebSocket accept in the texts a scenario gives: placeholders of identity
 * templates, client ids and topic names (MQTT's UTF-8 strings), subprotocol tokens (RFC 6455).
 * Checked at validate, so a text the protocol forbids is exit 2 naming the field, not a run of
 * network errors blamed on the target. Pure functions of text.
 */

/** A placeholder: "{" and a name, up to the next "}" (JSON braces such as {"a":1} are not one). */
const PLACEHOLDER_RE = /\{([A-Za-z_]\w*)([^{}]*)\}/g;
/** Names whose value is a number, so they take "/N" or "%N". */
const NUMERIC = new Set(['id', 'worker']);

/** Placeholders of device identities (client id, user name, password, hello frame). */
export const IDENTITY_NAMES = ['id', 'run', 'worker', 'cohort'] as const;
/** Placeholders of a publish topic. */
export const TOPIC_NAMES = ['id', 'run', 'cohort'] as const;

const list = (names: readonly string[]): string => names.map((n) => `{${n}}`).join(', ');

/** The first placeholder that would not expand, described; null when every one does. */
export function placeholderProblem(text: string, names: readonly string[]): string | null {
  for (const m of text.matchAll(PLACEHOLDER_RE)) {
    const [whole, name = '', rest = ''] = m;
    if (!names.includes(name)) {
      const near = names.find((n) => n === name.toLowerCase());
      return `unknown placeholder ${whole}; expected ${list(names)}${near !== undefined ? ` (did you mean {${near}}?)` : ''}`;
    }
    if (rest === '') continue;
    if (!NUMERIC.has(name)) return `${whole}: {${name}} takes no operator; only {id} and {worker} take /N or %N`;
    if (!/^[/%][1-9]\d{0,8}$/.test(rest))
      return `${whole}: expected {${name}/N} or {${name}%N} with N a whole number from 1`;
  }
  return null;
}

/**
 * MQTT's UTF-8 strings (MQTT 5 §1.5.4, 3.1.1 §1.5.3): no U+0000, and herd also refuses the control
 * characters the spec says a string SHOULD NOT carry (U+0001–U+001F, U+007F–U+009F) and lone surrogates.
 */
export function mqttStringProblem(text: string): string | null {
  const m = /[\u0000-\u001f\u007f-\u009f]/.exec(text);
  if (m !== null)
    return `contains the control character U+${m[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}; MQTT strings may not carry it`;
  if (/\p{Cs}/u.test(text)) return 'contains a lone surrogate: not valid UTF-8';
  return null;
}

/** A topic name a device may publish to (MQTT §4.7): no wildcard, a valid MQTT string. */
export function topicNameProblem(text: string): string | null {
  if (/[+#]/.test(text))
    return `contains the wildcard "${/[+#]/.exec(text)?.[0]}"; a publish topic may not (wildcards are for subscriptions)`;
  return mqttStringProblem(text);
}

/** RFC 6455 §4.1: a subprotocol is an HTTP token (RFC 7230 tchar: no space, separator or control). */
export function subprotocolProblem(text: string): string | null {
  if (/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(text)) return null;
  return 'expected a token (letters, digits and !#$%&\'*+-.^_`|~; no space, comma or quote), e.g. "mqtt"';
}
