/**
 * Loads a scenario file (YAML or JSON) and validates it (scenario/validate.ts: one pass, every
 * problem with its path). Never throws anything but HerdError.
 */
import { MIB, readInputFile } from '../util/input-file.js';
import { parseDocument } from 'yaml';
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
  try {
    doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  } catch (err) {
    // Nesting the text scan cannot see (inside a form it does not model) still ends here, named.
    if (err instanceof Error && isStackOverflow(err.message)) throw nestingError(path);
    throw err;
  }
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    if (isStackOverflow(e?.message ?? '')) throw nestingError(path);
    const where = e?.linePos?.[0] ? ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '';
    throw new HerdError('E_SCENARIO_PARSE', `${path}: not valid YAML or JSON${where}: ${e?.message.split('\n')[0] ?? 'parse error'}`);
  }
  try {
    const value = doc.toJS({ maxAliasCount: 100 }) as unknown;
    checkValueNesting(value, path);
    return value;
  } catch (err) {
    if (err instanceof HerdError) throw err;
    if (err instanceof Error && isStackOverflow(err.message)) throw nestingError(path);
    // Alias bombs ("billion laughs") and unresolved aliases end here, never as a crash.
    throw new HerdError('E_SCENARIO_PARSE', `${path}: not valid YAML: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
}

export function loadScenario(path: string, overrides: Overrides = {}): LoadedScenario {
  return validateScenario(parseScenarioText(readScenarioText(path), path), path, overrides);
}

