/**
 * The Markdown summary (pure): for CI pages ($GITHUB_STEP_SUMMARY) and pull requests. GitHub
 * flavoured: tables, no HTML beyond what GitHub renders.
 */
import type { Results } from '../results/types.js';
import { formatUs } from '../util/duration.js';
import { describeWave, errorTotal, latencyRows, percentOf } from './labels.js';

/** Escapes text for a Markdown table cell or inline text. */
export function mdEscape(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/([*_`<>[\]])/g, '\\$1').replace(/\r?\n/g, ' ');
}

function table(header: string[], rows: string[][], align: ('l' | 'r' | 'c')[] = []): string[] {
  const sep = header.map((_, i) => (align[i] === 'r' ? '---:' : align[i] === 'c' ? ':---:' : '---'));
  return [`| ${header.join(' | ')} |`, `| ${sep.join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

export function renderMarkdown(r: Results): string {
  const out: string[] = [];
  const passed = r.run.verdict === 'passed';
  out.push(`## herd · ${mdEscape(r.scenario.name)} — ${passed ? '✅ PASSED' : '❌ FAILED'}`, '');
  if (r.health.saturated) {
    out.push('> [!WARNING]', '> **The harness was saturated** — these numbers describe herd as much as the target:');
    for (const reason of r.health.reasons) out.push(`> - ${mdEscape(reason)}`);
    out.push('');
  }
  if (r.run.status === 'aborted') out.push(`> **Aborted:** ${mdEscape(r.run.abortReason ?? 'interrupted')} — a partial report.`, '');

  const s = r.scenario;
  out.push(
    ...table(
      ['run', 'target', 'devices', 'workers', 'duration', 'seed', 'herd'],
      [
        [
          `\`${r.run.id}\``,
          `${mdEscape(r.run.target)}${r.run.embeddedTarget ? ' (embedded)' : ''}`,
          `${s.devices}${s.scale !== 1 ? ` (scale ${s.scale})` : ''}`,
          String(r.run.workers),
          `${(r.run.durationMs / 1000).toFixed(1)}s`,
          String(s.seed),
          mdEscape(r.tool.version),
        ],
      ],
    ),
    '',
  );
  if (r.run.shard) out.push(`Shard ${r.run.shard.index} of ${r.run.shard.count} — one slice of the plan; \`herd merge\` combines the shards.`, '');
  if (r.run.mergedFrom) out.push(`Merged from ${r.run.mergedFrom.length} shards: ${r.run.mergedFrom.map((id) => `\`${id}\``).join(', ')}.`, '');
  out.push(`Waves: ${s.waves.map((w) => `**${mdEscape(w.name)}** ${describeWave(w)}`).join(' · ')}; teardown at ${formatUs(s.durationUs)}.`, '');

  const a = r.attempts;
  out.push('### Attempts', '');
  if (r.storm && r.storm.peakAttemptsPerS > 0) {
    out.push(`Busiest second: ${r.storm.peakAttemptsPerS} attempts/s, ${r.storm.peakHandshaking} handshakes in flight; ${r.storm.disconnects} disconnects, ${r.storm.outageDrops} devices knocked off by outages.`, '');
  }
  out.push(
    ...table(
      ['planned', 'reconnects', 'started', 'succeeded', 'failed', 'timed out', 'dropped', 'in flight at end'],
      [[a.planned, a.reconnects ?? 0, a.started, `${a.succeeded} (${percentOf(a.succeeded, a.planned + (a.reconnects ?? 0))})`, a.failed, a.timedOut, a.dropped, a.inFlightAtEnd].map(String)],
      ['r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
    '',
  );
  out.push(`${r.accounting.balanced ? '✓' : '✗ **Accounting mismatch:**'} ${mdEscape(r.accounting.detail)}`, '');

  const rows = latencyRows(r);
  if (rows.length > 0) {
    out.push('### Latency', '');
    out.push(
      ...table(
        ['phase', 'count', 'min', 'p50', 'p90', 'p99', 'p99.9', 'max'],
        rows.map(([key, label, l]) => [
          `${label} <sub>\`${key}\`</sub>`,
          String(l.count),
          ...[l.minUs, l.p50Us, l.p90Us, l.p99Us, l.p999Us, l.maxUs].map(formatUs),
        ]),
        ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
      ),
      '',
    );
  }

  out.push('### Errors', '');
  if (r.errors.length === 0) out.push('No errors.', '');
  else {
    out.push(`${errorTotal(r)} failures among ${a.started} started attempts.`, '');
    out.push(
      ...table(
        ['origin', 'phase', 'code', 'count', 'of started'],
        r.errors.map((e) => [
          e.origin === 'local' ? `**local** (the harness, not the target)` : e.origin,
          mdEscape(e.phase),
          `\`${e.code.replace(/`/g, "'")}\``,
          String(e.count),
          percentOf(e.count, a.started, 2),
        ]),
        ['l', 'l', 'l', 'r', 'r'],
      ),
      '',
    );
  }

  const outages = r.outages ?? [];
  if (outages.length > 0) {
    out.push('### Outages and recovery', '');
    out.push(
      ...table(
        ['outage', 'at', 'offline', 'mode', 'hit', 'recovered', 'recovery p50', 'p90', 'p99', 'all', 'attempts/device p50 · p99 · max'],
        outages.map((o) => [
          mdEscape(o.name),
          formatUs(o.atUs),
          formatUs(o.offlineUs),
          mdEscape(o.mode),
          String(o.dropped),
          String(o.recovered),
          ...[o.recovery.p50Us, o.recovery.p90Us, o.recovery.p99Us, o.recovery.p100Us].map((v) => (v === null ? 'never' : formatUs(v))),
          `${o.reconnectAttempts.p50} · ${o.reconnectAttempts.p99} · ${o.reconnectAttempts.max}`,
        ]),
        ['l', 'r', 'r', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
      ),
      '',
    );
  }

  if (r.thresholds.length > 0) {
    out.push('### Thresholds', '');
    out.push(
      ...table(
        ['', 'metric', 'expression', 'observed'],
        r.thresholds.map((t) => [t.passed ? '✓' : '✗', `\`${t.metric}\``, `\`${t.expression.replace(/`/g, "'")}\``, mdEscape(t.observedText)]),
        ['c', 'l', 'l', 'r'],
      ),
      '',
    );
  }
  out.push(`**Verdict: ${passed ? 'PASSED' : 'FAILED'}** (exit ${r.run.exitCode})`, '');
  return out.join('\n');
}
