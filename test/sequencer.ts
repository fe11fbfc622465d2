/**
 * Longest file first, by the durations a clean-clone CI run measured (test/durations.json, whole
 * seconds): each free worker takes the next file, so the long e2e files start at once instead of
 * last and no worker is left running one of them alone at the end. A clean clone has no vitest
 * cache, so without this list the order would be by file size. A file the list does not know goes
 * first (it may be long). Refresh the list from a run's JSON report:
 * `npx vitest run --reporter=json --outputFile=/tmp/v.json` then
 * `node scripts/test-durations.js /tmp/v.json`.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const DURATIONS = JSON.parse(readFileSync(new URL('./durations.json', import.meta.url), 'utf8')) as Record<
  string,
  number
>;
const UNKNOWN = Number.POSITIVE_INFINITY;

export default class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root;
    const seconds = (f: TestSpecification): number => DURATIONS[relative(root, f.moduleId)] ?? UNKNOWN;
    return [...files].sort((a, b) => seconds(b) - seconds(a) || a.moduleId.localeCompare(b.moduleId));
  }
}
