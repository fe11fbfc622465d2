/**
 * A scenario is a few levels deep; a file nested thousands of levels deep is a mistake or an
 * attack, and would overflow the parser's stack. Both checks here are iterative, so they cannot
 * overflow themselves.
 */
import { HerdError } from '../errors.js';

/** Deepest nesting accepted; the deepest real scenario field is about 6 levels down. */
export const MAX_NESTING = 64;

function tooDeep(path: string, line: number | null): HerdError {
  return new HerdError(
    'E_SCENARIO_PARSE',
    `${path}: nesting deeper than ${MAX_NESTING} levels${line === null ? '' : ` at line ${line}`}; a scenario is a few levels deep`,
  );
}

/**
 * Flow collections (`[`/`{`) and compact block sequences (`- - x`), counted before the YAML parser
 * sees them. Quoted strings, comments and block scalars (`|`, `>`) are text, not nesting.
 */
export function checkTextNesting(text: string, path: string): void {
  let depth = 0;
  let quote: string | null = null;
  let blockIndent: number | null = null;
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n] as string;
    const indent = line.length - line.trimStart().length;
    if (quote === null && blockIndent !== null) {
      if (line.trim() === '' || indent > blockIndent) continue;
      blockIndent = null;
    }
    let dashes = 0;
    let atStart = quote === null;
    let content = '';
    for (let i = 0; i < line.length; i++) {
      const ch = line[i] as string;
      if (quote !== null) {
        if (ch === '\\' && quote === '"') i++;
        else if (ch === quote) quote = null;
        continue;
      }
      if (ch === '#' && (i === 0 || /\s/.test(line[i - 1] as string))) break;
      content += ch;
      if (ch === '"' || ch === "'") quote = ch;
      else if (ch === '[' || ch === '{') depth++;
      else if ((ch === ']' || ch === '}') && depth > 0) depth--;
      else if (ch === '-' && atStart && (line[i + 1] === ' ' || line[i + 1] === undefined)) dashes++;
      else if (ch !== ' ' && ch !== '\t') atStart = false;
      if (depth + dashes > MAX_NESTING) throw tooDeep(path, n + 1);
    }
    if (quote === null && depth === 0 && /(^|[:-]\s+|^\s*)[|>][-+1-9]*\s*$/.test(content)) blockIndent = indent;
  }
}

/** Depth of a parsed value (objects and arrays), walked without recursion. */
export function checkValueNesting(value: unknown, path: string): void {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== 'object') continue;
    if (d > MAX_NESTING) throw tooDeep(path, null);
    for (const child of Object.values(v)) stack.push([child, d + 1]);
  }
}

/** True for the stack overflow a parser throws on input nested too deeply. */
export function isStackOverflow(message: string): boolean {
  return /Maximum call stack size exceeded|too much recursion/i.test(message);
}

export function nestingError(path: string): HerdError {
  return tooDeep(path, null);
}
