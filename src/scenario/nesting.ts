/**
 * A scenario is a few levels deep; a file nested thousands of levels deep is a mistake or an
 * attack, and would overflow the parser's stack. Both checks here are iterative, so they cannot
 * overflow themselves.
 */
import { HerdError } from '../errors.js';

/** Deepest nesting accepted; the deepest real scenario field is about 6 levels down. */
export const MAX_NESTING = 64;

function tooDeep(path: string, line: number | null): HerdError {
  return new HerdError('E_SCENARIO_PARSE', `${path}: nesting deeper than ${MAX_NESTING} levels${line === null ? '' : ` at line ${line}`}; a scenario is a few levels deep`);
}

/** Flow collections (`[`/`{`) and block sequence dashes, counted before the YAML parser sees them. */
export function checkTextNesting(text: string, path: string): void {
  let depth = 0;
  let line = 1;
  let quote: string | null = null;
  let lineDashes = 0;
  let atLineStart = true;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (ch === '\n') {
      line++;
      lineDashes = 0;
      atLineStart = true;
      if (quote === null) continue;
    }
    if (quote !== null) {
      if (ch === '\\' && quote === '"') i++;
      else if (ch === quote) quote = null;
      continue;
    }
    if (ch === '#' && (i === 0 || /\s/.test(text[i - 1] as string))) {
      while (i + 1 < text.length && text[i + 1] !== '\n') i++;
      continue;
    }
    if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '[' || ch === '{') depth++;
    else if ((ch === ']' || ch === '}') && depth > 0) depth--;
    // "- - - - x": compact block sequences nest one level per dash on a single line.
    else if (ch === '-' && atLineStart && (text[i + 1] === ' ' || text[i + 1] === '\n')) lineDashes++;
    else if (ch !== ' ' && ch !== '\t') atLineStart = false;
    if (depth + lineDashes > MAX_NESTING) throw tooDeep(path, line);
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
