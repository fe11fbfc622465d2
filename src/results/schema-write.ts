/**
 * Writes schemas/results.schema.json and docs/results.md from the zod schema:
 *   npm run build && node dist/results/schema-write.js
 * A unit test (test/unit/results-schema.test.ts) fails when the committed files are stale.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeFileAtomic } from '../util/atomic-write.js';
import { PACKAGE_ROOT } from '../util/paths.js';
import { resultsJsonSchemaText } from './schema.js';
import { renderResultsDoc } from './schema-doc.js';

export const RESULTS_SCHEMA_FILE = 'schemas/results.schema.json';
export const RESULTS_DOC_FILE = 'docs/results.md';

export function writeResultsSchemaFiles(root: string = PACKAGE_ROOT): string[] {
  const files: [string, string][] = [
    [RESULTS_SCHEMA_FILE, resultsJsonSchemaText()],
    [RESULTS_DOC_FILE, renderResultsDoc()],
  ];
  return files.map(([rel, text]) => {
    const path = join(root, rel);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileAtomic(path, text);
    return path;
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const p of writeResultsSchemaFiles()) process.stdout.write(`wrote ${p}\n`);
}
