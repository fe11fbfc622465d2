/** Reads a results.json written by herd; refuses foreign files and unknown major versions (exit 2). */
import { readFileSync } from 'node:fs';
import { HerdError } from '../errors.js';
import { RESULTS_SCHEMA_VERSION, type Results } from './results-types.js';

export function readResults(path: string): Results {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new HerdError('E_RESULTS_FILE', `${path}: cannot read the file (${(err as { code?: string }).code ?? 'error'})`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new HerdError('E_RESULTS_FILE', `${path}: not valid JSON (truncated or not a herd results file)`);
  }
  return checkResults(data, path);
}

export function checkResults(data: unknown, path: string): Results {
  const d = data as Partial<Results> | null;
  if (typeof d !== 'object' || d === null || Array.isArray(d) || d.tool?.name !== 'herd' || typeof d.schemaVersion !== 'string') {
    throw new HerdError('E_RESULTS_FILE', `${path}: not a herd results file (expected tool.name "herd" and a schemaVersion)`);
  }
  const major = d.schemaVersion.split('.')[0];
  const ours = RESULTS_SCHEMA_VERSION.split('.')[0];
  if (major !== ours) {
    throw new HerdError(
      'E_RESULTS_VERSION',
      `${path}: results schema version ${d.schemaVersion} is not supported by herd ${RESULTS_SCHEMA_VERSION.split('.')[0]}.x readers (this herd reads ${ours}.x.x)`,
    );
  }
  const missing = (['run', 'scenario', 'attempts', 'latency', 'errors', 'timeline', 'health', 'thresholds'] as const).filter(
    (k) => typeof d[k] !== 'object' || d[k] === null,
  );
  if (missing.length > 0) {
    throw new HerdError('E_RESULTS_FILE', `${path}: incomplete results file; missing ${missing.join(', ')}`);
  }
  return d as Results;
}
