/**
 * Control characters from names a user or a results file gave (ESC sequences retitle and clear a
 * terminal; summary.md goes into CI step summaries) are shown escaped, never written raw.
 */

/** C0 (but tab and line feed), DEL and C1 controls, and the bidi overrides that reorder a line. */
const CONTROL_RE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
const CONTROL_OR_NEWLINE_RE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

function escapeOne(c: string): string {
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** The text with control characters written as \xNN (line breaks kept unless `newlines` is false). */
export function escapeControl(text: string, newlines = true): string {
  return text.replace(newlines ? CONTROL_RE : CONTROL_OR_NEWLINE_RE, escapeOne);
}

/** A copy of plain data with every string (keys included) passed through escapeControl(…, false). */
export function escapeControlDeep<T>(value: T): T {
  if (typeof value === 'string') return escapeControl(value, false) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => escapeControlDeep(v)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[escapeControl(k, false)] = escapeControlDeep(v);
    return out as T;
  }
  return value;
}
