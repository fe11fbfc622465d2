/**
 * Reads a results.json written by herd: refuses foreign files and unknown major versions, then
 * validates the rest against the schema and reports every problem with its path (exit 2).
 */
import { MIB, readInputFile } from '../util/input-file.js';
import { HerdError } from '../errors.js';
import { RESULTS_SCHEMA_VERSION, type Results } from './types.js';
import { resultsSchema } from './schema.js';

/** Problems listed in one error; the rest are counted, since a wrong file can have thousands. */
const MAX_LISTED_PROBLEMS = 20;

/** Largest results file read: a long run's timeline is a few MiB; a file past this is not one of herd's. */
export const MAX_RESULTS_BYTES = 256 * MIB;

export function readResults(path: string): Results {
  const r = readInputFile(path, MAX_RESULTS_BYTES);
  if (!r.ok) throw new HerdError('E_RESULTS_FILE', `${path}: cannot read the results file (${r.why})`);
  const text = r.bytes.toString('utf8');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new HerdError('E_RESULTS_FILE', `${path}: not valid JSON (truncated or not a herd results file)`);
  }
  return checkResults(data, path);
}

export function checkResults(data: unknown, path: string): Results {
  const d = data as { tool?: { name?: unknown }; schemaVersion?: unknown } | null;
  if (
    typeof d !== 'object' ||
    d === null ||
    Array.isArray(d) ||
    d.tool?.name !== 'herd' ||
    typeof d.schemaVersion !== 'string'
  ) {
    throw new HerdError(
      'E_RESULTS_FILE',
      `${path}: not a herd results file (expected tool.name "herd" and a schemaVersion)`,
    );
  }
  const major = d.schemaVersion.split('.')[0];
  const ours = RESULTS_SCHEMA_VERSION.split('.')[0] ?? '';
  if (major !== ours) {
    throw new HerdError(
      'E_RESULTS_VERSION',
      `${path}: results schema version "${d.schemaVersion}"${d.schemaVersion.trim() === '' ? ' (blank)' : ''} is not supported; this herd reads ${ours}.x results files (use the herd version that wrote it)`,
    );
  }
  const parsed = resultsSchema.safeParse(data);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (i) => `${i.path.length === 0 ? '(top level)' : formatPath(i.path)}: ${i.message}`,
    );
    const listed = problems.slice(0, MAX_LISTED_PROBLEMS);
    if (problems.length > listed.length) listed.push(`… and ${problems.length - listed.length} more`);
    throw new HerdError(
      'E_RESULTS_FILE',
      `${path}: not a valid herd ${ours}.x results file (${problems.length} problem${problems.length === 1 ? '' : 's'})`,
      listed,
    );
  }
  // zod's copy has the defaults of fields added in later 1.x versions filled in, but drops fields this
  // reader does not know; a later 1.y file may carry some, and `--format json` must not lose them.
  const r = overlay(data, parsed.data) as Results;
  splitOldDuplicates(r);
  return r;
}

/** Files before 1.4.0 did not tell duplicates apart: the ones they counted are read as the cloud's. */
function splitOldDuplicates(r: Results): void {
  const d = r.delivery;
  if (d === null) return;
  for (const c of [d, ...Object.values(d.byCohort)])
    if (c.duplicatedByCloud + c.duplicatedByResend < c.duplicated)
      c.duplicatedByCloud = c.duplicated - c.duplicatedByResend;
}

/** `known` laid over `original`: known values win, unknown keys of `original` are kept. */
function overlay(original: unknown, known: unknown): unknown {
  if (Array.isArray(known) && Array.isArray(original)) return known.map((k, i) => overlay(original[i], k));
  if (isPlainObject(known) && isPlainObject(original)) {
    const out: Record<string, unknown> = { ...original };
    for (const [k, v] of Object.entries(known)) out[k] = overlay(original[k], v);
    return out;
  }
  return known;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const k of path) {
    if (typeof k === 'number') out += `[${k}]`;
    else if (!/^[A-Za-z_$][\w$]*$/.test(String(k))) out += `[${JSON.stringify(String(k))}]`;
    else out += out === '' ? String(k) : `.${String(k)}`;
  }
  return out;
}
