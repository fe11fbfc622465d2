/**
 * Live progress, subscribed to the coordinator's per-second events (presentation only). On a TTY
 * one line is rewritten in place; otherwise a plain line every few seconds, for CI logs.
 */
import type { SecondEvent } from '../engine/coordinator.js';
import { formatUs } from '../util/duration.js';
import type { CliContext } from './context.js';
import { painter } from './output.js';

const PLAIN_EVERY_S = 5;

export class ProgressPrinter {
  private readonly ctx: CliContext;
  private readonly tty: boolean;
  private lastPlainT = -PLAIN_EVERY_S;
  private lineOpen = false;

  constructor(ctx: CliContext) {
    this.ctx = ctx;
    this.tty = ctx.stderr.isTTY === true && ctx.env.CI === undefined;
  }

  start(info: { runId: string; target: string; devices: number; workers: number }): void {
    this.ctx.stderr.write(
      `herd run ${info.runId}: ${info.devices} devices → ${info.target} (${info.workers} worker${info.workers === 1 ? '' : 's'})\n`,
    );
  }

  second(ev: SecondEvent): void {
    const b = ev.bucket;
    const p = painter(this.ctx, this.ctx.stderr);
    const byClass = Object.entries(b.errorsByOrigin)
      .filter(([, n]) => n > 0)
      .map(([origin, n]) => `${origin} ${n}`)
      .join(', ');
    const lat =
      b.connectP50Us === null ? '' : ` · connect p50 ${formatUs(b.connectP50Us)} p99 ${formatUs(b.connectP99Us ?? 0)}`;
    const line =
      `t=${String(b.t + 1).padStart(4)}s · connected ${ev.connectedNow}/${ev.planned} · ${b.attempts} attempts/s` +
      ` · ${byClass !== '' ? p.bad(`errors/s ${byClass}`) : '0 errors/s'}${lat}` +
      (b.loopDelayP99Us !== null && b.loopDelayP99Us > 50_000
        ? p.warn(` · loop delay ${formatUs(b.loopDelayP99Us)}`)
        : '');
    if (this.tty) {
      this.ctx.stderr.write(`\r\x1b[2K${line}`);
      this.lineOpen = true;
    } else if (b.t - this.lastPlainT >= PLAIN_EVERY_S) {
      this.lastPlainT = b.t;
      this.ctx.stderr.write(line + '\n');
    }
  }

  notice(message: string): void {
    this.closeLine();
    this.ctx.stderr.write(message + '\n');
  }

  end(): void {
    this.closeLine();
  }

  private closeLine(): void {
    if (this.lineOpen) this.ctx.stderr.write('\n');
    this.lineOpen = false;
  }
}
