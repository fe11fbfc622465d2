/**
 * A device's identity (client id, username, password, hello) from the cohort's templates: every
 * name but {id} is expanded once per cohort, so an attempt only joins in the device id.
 */
import type { ExpandTemplate } from './device.js';

export type IdTemplate = (id: number) => string;

/**
 * An identity template with every name but {id} expanded once (`expand`'s rules: unknown names stay
 * as written): per attempt only the device id is joined in, instead of a regex pass with a callback
 * and a variables object per attempt.
 */
export function compileIdTemplate(
  template: string,
  expand: ExpandTemplate,
  fixed: { run: string; worker: number; cohort: string },
): IdTemplate {
  // {id/N} and {id%N} compute on the id: those templates are expanded per attempt.
  if (/\{id[/%]\d+\}/.test(template)) return (id) => expand(template, { ...fixed, id });
  // A marker no scenario value can contain (NUL), standing in for {id} while the rest is expanded.
  const marker = '\u0000id\u0000';
  const parts = expand(template, { ...fixed, id: marker }).split(marker);
  if (parts.length === 1) {
    const constant = parts[0] as string;
    return () => constant;
  }
  if (parts.length === 2) {
    // The usual template ("dev-{id}"): one concatenation, no array join per attempt.
    const [head, tail] = parts as [string, string];
    return (id) => head + id + tail;
  }
  return (id) => parts.join(String(id));
}
