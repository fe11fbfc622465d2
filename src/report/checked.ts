/**
 * What a report may take from a results file as written, and what it checks again: a results file
 * is input (it may come from another machine or be edited), so the accounting identity is
 * re-checked from its own counts — a tampered file never gets a ✓ — and control characters in its
 * names are escaped before they reach a terminal or Markdown.
 */
import { checkAccounting } from '../metrics/accounting.js';
import type { Results } from '../results/types.js';
import { escapeControlDeep } from '../util/control-chars.js';

/** The results with `accounting` re-derived from the attempts: balanced only when both agree. */
export function withCheckedAccounting(r: Results): Results {
  const again = checkAccounting(r.attempts);
  if (again.balanced && r.accounting.balanced) return r;
  return {
    ...r,
    accounting: { ...r.accounting, balanced: false, detail: again.balanced ? r.accounting.detail : again.detail },
  };
}

/** The view every text report renders: accounting re-checked, control characters escaped. */
export function checkedForText(r: Results): Results {
  return escapeControlDeep(withCheckedAccounting(r));
}
