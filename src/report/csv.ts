/**
 * The per-second timeline as CSV (pure): one row per second, every series of results.timeline,
 * errors split by origin. Column names are the results.json field names, so docs/results.md
 * describes them; empty cells mean "no samples in that second" (null in results.json).
 */
import { stringify } from 'csv-stringify/sync';
import { ERROR_ORIGINS, type Results, type TimelineBucket } from '../results/types.js';

type Cell = number | string | null;

interface Column {
  header: string;
  value(b: TimelineBucket): Cell;
}

export const TIMELINE_COLUMNS: readonly Column[] = [
  { header: 't', value: (b) => b.t },
  { header: 'attempts', value: (b) => b.attempts },
  { header: 'succeeded', value: (b) => b.succeeded },
  { header: 'failed', value: (b) => b.failed },
  { header: 'timedOut', value: (b) => b.timedOut },
  { header: 'dropped', value: (b) => b.dropped },
  { header: 'disconnects', value: (b) => b.disconnects },
  { header: 'connected', value: (b) => b.connected },
  { header: 'handshaking', value: (b) => b.handshaking },
  { header: 'peakHandshaking', value: (b) => b.peakHandshaking ?? 0 },
  { header: 'reconnects', value: (b) => b.reconnects ?? 0 },
  { header: 'offlineAttempts', value: (b) => b.offlineAttempts ?? 0 },
  ...ERROR_ORIGINS.map((o) => ({ header: `errors.${o}`, value: (b: TimelineBucket) => b.errorsByOrigin[o] ?? 0 })),
  { header: 'connectP50Us', value: (b) => b.connectP50Us },
  { header: 'connectP90Us', value: (b) => b.connectP90Us },
  { header: 'connectP99Us', value: (b) => b.connectP99Us },
  { header: 'connectMaxUs', value: (b) => b.connectMaxUs },
  { header: 'loopDelayP99Us', value: (b) => b.loopDelayP99Us },
];

export function renderTimelineCsv(r: Results): string {
  const rows = r.timeline.buckets.map((b) => TIMELINE_COLUMNS.map((c) => c.value(b) ?? ''));
  return stringify(rows, { header: true, columns: TIMELINE_COLUMNS.map((c) => c.header), record_delimiter: 'unix' });
}
