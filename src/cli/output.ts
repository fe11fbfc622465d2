import { Chalk } from 'chalk';
import type { CliContext, OutStream } from './context.js';
import type { Paint } from '../report/summary.js';
import { HerdError } from '../errors.js';
import { redactText } from '../scenario/url-credentials.js';

/** Colour only on a TTY and never when NO_COLOR is set (https://no-color.org). */
export function painter(ctx: CliContext, stream: OutStream = ctx.stdout): Paint {
  const enabled = stream.isTTY === true && (ctx.env.NO_COLOR === undefined || ctx.env.NO_COLOR === '') && ctx.env.TERM !== 'dumb';
  const c = new Chalk({ level: enabled ? 1 : 0 });
  return { ok: c.green, bad: c.red, warn: c.yellow, dim: c.dim, bold: c.bold };
}

export function printError(ctx: CliContext, err: HerdError): void {
  const p = painter(ctx, ctx.stderr);
  // A URL's password must not reach the console, whichever message carried the URL.
  ctx.stderr.write(`${p.bad('error')} ${err.code}: ${redactText(err.message)}\n`);
  for (const d of err.details) ctx.stderr.write(`  - ${redactText(d)}\n`);
}
