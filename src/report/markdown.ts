/**
 * The Markdown summary (pure): for CI pages ($GITHUB_STEP_SUMMARY) and pull requests. GitHub
 * flavoured: tables, no HTML beyond what GitHub renders.
 */
import { signalsMarkdown } from './server-signals.js';
import { downlinkMarkdown } from './downlink.js';
import { deliveryMarkdown } from './delivery.js';
import type { Results } from '../results/types.js';
import { formatUs } from '../util/duration.js';
import { describeWave, latencyRows, percentOf } from './labels.js';
import {
  engineText,
  namesText,
  warmUpText,
  fleetLostText,
  failedThresholdLines,
  isConnectError,
  outagePeakAfterEnd,
  runFacts,
  saturationLines,
  verdictText,
} from './facts.js';
import { checkedForText } from './checked.js';

/** Escapes text for a Markdown table cell or inline text. */
export function mdEscape(s: string): string {
  return s
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/([*_`<>[\]])/g, '\\$1')
    .replace(/\r?\n/g, ' ');
}

function table(header: string[], rows: string[][], align: ('l' | 'r' | 'c')[] = []): string[] {
  const sep = header.map((_, i) => (align[i] === 'r' ? '---:' : align[i] === 'c' ? ':---:' : '---'));
  return [`| ${header.join(' | ')} |`, `| ${sep.join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

export function renderMarkdown(unsafe: Results): string {
  // Names come from users and files: their control characters are shown escaped, never raw.
  const r = checkedForText(unsafe);
  const out: string[] = [];
  const passed = r.run.verdict === 'passed';
  out.push(`## herd · ${mdEscape(r.scenario.name)} — ${passed ? '✅ PASSED' : '❌ FAILED'}`, '');
  // Why first: the verdict, the thresholds that failed, then the harness's note on itself.
  out.push(`**${verdictText(r).replace(/ \(/, '** (')}`);
  const failed = failedThresholdLines(r);
  if (failed.length > 0) out.push('', ...failed.map((x) => `- ${mdEscape(x)}`));
  out.push('');
  const sat = saturationLines(r);
  if (sat) {
    out.push(r.health.affectsVerdict ? '> [!CAUTION]' : '> [!WARNING]', `> **${mdEscape(sat.title)}**`);
    for (const line of sat.lines) out.push(`> - ${mdEscape(line)}`);
    out.push('');
  }
  const f = runFacts(r);
  const lost = fleetLostText(r);
  if (lost !== null) out.push('> [!CAUTION]', `> **${mdEscape(lost)}**`, '');
  if (r.run.status === 'aborted')
    out.push(`> **Aborted:** ${mdEscape(r.run.abortReason ?? 'interrupted')} — a partial report.`, '');

  const s = r.scenario;
  out.push(
    ...table(
      ['run', 'target', 'devices', 'workers', 'duration', 'seed', 'herd'],
      [
        [
          `\`${r.run.id}\``,
          mdEscape(f.target),
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
  const engine = engineText(r);
  if (engine !== null) out.push(`Connect path: ${mdEscape(engine)}`, '');
  const names = namesText(r);
  if (names !== null) out.push(`Host names: ${mdEscape(names)}.`, '');
  const warm = warmUpText(r);
  if (warm !== null) out.push(`Warm-up: ${mdEscape(warm)}.`, '');
  if (r.run.shard)
    out.push(
      `Shard ${r.run.shard.index} of ${r.run.shard.count} — one slice of the plan; \`herd merge\` combines the shards.`,
      '',
    );
  if (r.run.mergedFrom)
    out.push(
      `Merged from ${r.run.mergedFrom.length} shards: ${r.run.mergedFrom.map((id) => `\`${id}\``).join(', ')}.`,
      '',
    );
  out.push(
    `Waves: ${s.waves.map((w) => `**${mdEscape(w.name)}** ${describeWave(w)}`).join(' · ')}; teardown at ${formatUs(s.durationUs)}.`,
    '',
  );

  const a = r.attempts;
  out.push('### Attempts', '');
  out.push(`**${mdEscape(f.success)}** · ${mdEscape(f.connectFailures)} · ${mdEscape(f.sessionsLost)}`, '');
  out.push(`${mdEscape(f.peaks)} · ${r.storm.outageDrops} dropped by outage waves`, '');
  out.push(
    ...table(
      [
        'planned',
        'reconnects',
        'offline (never sent)',
        'started',
        'succeeded',
        'connects failed',
        'timed out',
        'dropped',
        'in flight at end',
      ],
      [
        [
          a.planned,
          a.reconnects ?? 0,
          a.offline ?? 0,
          a.started,
          a.succeeded,
          a.failed,
          a.timedOut,
          a.dropped,
          a.inFlightAtEnd,
        ].map(String),
      ],
      ['r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
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

  out.push(...signalsMarkdown(r)); // issue 16
  out.push(...deliveryMarkdown(r)); // issue 24
  out.push(...downlinkMarkdown(r));
  out.push('### Errors', '');
  if (r.errors.length === 0) out.push('No errors.', '');
  else {
    out.push(`Connect attempts: ${mdEscape(f.errorsRate)}. Sessions: ${mdEscape(f.sessionsLost)}.`, '');
    if (f.shedding) out.push(`**Load shedding:** ${mdEscape(f.shedding)}.`, '');
    out.push(
      ...table(
        ['origin', 'phase', 'code', 'count', 'of'],
        r.errors.map((e) => [
          e.origin === 'local' ? `**local** (the harness, not the target)` : e.origin,
          mdEscape(e.phase),
          `\`${e.code.replace(/`/g, "'")}\``,
          String(e.count),
          isConnectError(e)
            ? `${percentOf(e.count, a.started, 2)} of started`
            : e.phase === 'held'
              ? `${percentOf(e.count, a.succeeded, 2)} of established`
              : '',
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
        [
          'outage',
          'at',
          'offline',
          'mode',
          'hit',
          'recovered',
          'recovery p50',
          'p90',
          'p99',
          'all',
          'peak successes/s after it ended',
          'attempts/device p50 · p99 · max',
        ],
        outages.map((o) => [
          mdEscape(o.name),
          formatUs(o.atUs),
          formatUs(o.offlineUs),
          mdEscape(o.mode),
          String(o.dropped),
          String(o.recovered),
          ...[o.recovery.p50Us, o.recovery.p90Us, o.recovery.p99Us, o.recovery.p100Us].map((v) =>
            o.dropped === 0 ? '–' : v === null ? 'never' : formatUs(v),
          ),
          String(outagePeakAfterEnd(r, o)),
          `${o.reconnectAttempts.p50} · ${o.reconnectAttempts.p99} · ${o.reconnectAttempts.max}`,
        ]),
        ['l', 'r', 'r', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
      ),
      '',
    );
    for (const line of f.outages) out.push(`- ${mdEscape(line)}`);
    out.push('');
  }

  if (r.thresholds.length > 0) {
    out.push('### Thresholds', '');
    out.push(
      ...table(
        ['', 'metric', 'expression', 'observed'],
        r.thresholds.map((t) => [
          t.passed ? '✓' : '✗',
          `\`${t.metric}\``,
          `\`${t.expression.replace(/`/g, "'")}\``,
          mdEscape(t.observedText),
        ]),
        ['c', 'l', 'l', 'r'],
      ),
      '',
    );
  }
  return out.join('\n');
}
