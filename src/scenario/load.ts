/**
 * Loads a scenario file (YAML or JSON) and validates it (scenario/validate.ts: one pass, every
 * problem with its path). Never throws anything but HerdError.
 */
import { MIB, readInputFile } from '../util/input-file.js';
import { isScalar, LineCounter, parseDocument, visit, type Document } from 'yaml';
import { HerdError } from '../errors.js';
import type { Overrides } from './resolve.js';
import { validateScenario, type LoadedScenario } from './validate.js';
import { checkTextNesting, checkValueNesting, isStackOverflow, nestingError } from './nesting.js';

/** Largest scenario file accepted; a scenario is a page of text, not a data set. */
export const MAX_BYTES = MIB;

export function readScenarioText(path: string): string {
  const r = readInputFile(path, MAX_BYTES);
  if (!r.ok) throw new HerdError('E_SCENARIO_FILE', `${path}: cannot read the scenario file (${r.why})`);
  return r.bytes.toString('utf8');
}

/** Parses YAML (a superset of JSON) with one clear message for syntax errors. */
export function parseScenarioText(text: string, path: string): unknown {
  checkTextNesting(text, path);
  let doc: ReturnType<typeof parseDocument>;
  const lines = new LineCounter();
  try {
    // yaml's own uniqueKeys check compares every pair of keys: 40,000 keys took 80 s. One Set per map.
    doc = parseDocument(text, { prettyErrors: true, uniqueKeys: false, lineCounter: lines });
  } catch (err) {
    // Nesting the text scan cannot see (inside a form it does not model) still ends here, named.
    if (err instanceof Error && isStackOverflow(err.message)) throw nestingError(path);
    throw err;
  }
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    if (isStackOverflow(e?.message ?? '')) throw nestingError(path);
    const where = e?.linePos?.[0] ? ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '';
    throw new HerdError(
      'E_SCENARIO_PARSE',
      `${path}: not valid YAML or JSON${where}: ${e?.message.split('\n')[0] ?? 'parse error'}`,
    );
  }
  const dup = firstDuplicateKey(doc);
  if (dup !== null) {
    const at = lines.linePos(dup.offset);
    throw new HerdError(
      'E_SCENARIO_PARSE',
      `${path}: not valid YAML or JSON at line ${at.line}, column ${at.col}: Map keys must be unique (${JSON.stringify(dup.key)} is given twice)`,
    );
  }
  try {
    const value = doc.toJS({ maxAliasCount: 100 }) as unknown;
    checkValueNesting(value, path);
    return value;
  } catch (err) {
    if (err instanceof HerdError) throw err;
    if (err instanceof Error && isStackOverflow(err.message)) throw nestingError(path);
    // Alias bombs ("billion laughs") and unresolved aliases end here, never as a crash.
    throw new HerdError(
      'E_SCENARIO_PARSE',
      `${path}: not valid YAML: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
    );
  }
}

/** The first key given twice in one mapping, with its offset in the text; null when there is none. */
function firstDuplicateKey(doc: Document): { key: string; offset: number } | null {
  let found: { key: string; offset: number } | null = null;
  visit(doc, {
    Map(_, map) {
      const seen = new Set<string>();
      for (const pair of map.items) {
        const k = pair.key;
        const key = isScalar(k) ? String(k.value) : String(k);
        if (seen.has(key)) {
          found = { key, offset: (isScalar(k) ? k.range?.[0] : undefined) ?? 0 };
          return visit.BREAK;
        }
        seen.add(key);
      }
      return undefined;
    },
  });
  return found;
}

export function loadScenario(path: string, overrides: Overrides = {}, cwd?: string): LoadedScenario {
  return validateScenario(parseScenarioText(readScenarioText(path), path), path, overrides, cwd);
}
