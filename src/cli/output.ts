import { Chalk } from 'chalk';
import type { CliContext, OutStream } from './context.js';
import type { Paint } from '../report/summary.js';
import { HerdError } from '../errors.js';
import { redactText } from '../scenario/url-credentials.js';
import { escapeControl } from '../util/control-chars.js';

/** Colour only on a TTY and never when NO_COLOR is set (https://no-color.org). */
export function painter(ctx: CliContext, stream: OutStream = ctx.stdout): Paint {
  const enabled =
    stream.isTTY === true && (ctx.env.NO_COLOR === undefined || ctx.env.NO_COLOR === '') && ctx.env.TERM !== 'dumb';
  const c = new Chalk({ level: enabled ? 1 : 0 });
  return { ok: c.green, bad: c.red, warn: c.yellow, dim: c.dim, bold: c.bold };
}

/** Problems printed for one error; the rest are counted (40,000 unknown keys are not 40,000 lines). */
export const MAX_DETAILS = 50;

export function printError(ctx: CliContext, err: HerdError): void {
  const p = painter(ctx, ctx.stderr);
  // A URL's password must not reach the console, whichever message carried the URL.
  // A name in a message (scenario, cohort, file) may carry ESC sequences: shown escaped, one line each.
  ctx.stderr.write(`${p.bad('error')} ${err.code}: ${escapeControl(redactText(err.message), false)}\n`);
  for (const d of err.details.slice(0, MAX_DETAILS)) ctx.stderr.write(`  - ${escapeControl(redactText(d), false)}\n`);
  if (err.details.length > MAX_DETAILS) ctx.stderr.write(`  … and ${err.details.length - MAX_DETAILS} more\n`);
}
