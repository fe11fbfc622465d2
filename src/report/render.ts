/**
 * The report formats, keyed by name (pure). `herd run` writes renderRunFiles() next to
 * results.json; `herd report` re-renders any one of them later from the same file.
 */
import type { Results } from '../results/types.js';
import { renderSummary, type Paint, PLAIN } from './summary.js';
import { renderMarkdown } from './markdown.js';
import { renderTimelineCsv } from './csv.js';
import { renderJunit } from './junit.js';
import { renderHtml } from './html.js';

export const REPORT_FORMATS = ['json', 'md', 'csv', 'junit', 'html', 'summary'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export function isReportFormat(s: string): s is ReportFormat {
  return (REPORT_FORMATS as readonly string[]).includes(s);
}

/** Renders one format; `paint` only colours the terminal summary. */
export function renderFormat(r: Results, format: ReportFormat, paint: Paint = PLAIN): string {
  switch (format) {
    case 'json':
      return JSON.stringify(r, null, 2) + '\n';
    case 'md':
      return renderMarkdown(r);
    case 'csv':
      return renderTimelineCsv(r);
    case 'junit':
      return renderJunit(r);
    case 'html':
      return renderHtml(r);
    case 'summary':
      return renderSummary(r, paint) + '\n';
  }
}

/** File names written next to results.json after a run, and the format each holds. */
export const RUN_FILES: readonly { name: string; format: ReportFormat }[] = [
  { name: 'summary.md', format: 'md' },
  { name: 'timeline.csv', format: 'csv' },
  { name: 'junit.xml', format: 'junit' },
  { name: 'report.html', format: 'html' },
];

export function renderRunFiles(r: Results): { name: string; content: string }[] {
  return RUN_FILES.map((f) => ({ name: f.name, content: renderFormat(r, f.format) }));
}
