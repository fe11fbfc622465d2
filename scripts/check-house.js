#!/usr/bin/env node
/**
 * House rules a machine checks: no TypeScript file over 350 lines, no line over 120 characters
 * once string and template literal text is left out (a long host or message stays one literal;
 * code and comments count). Usage: node scripts/check-house.js [dir…] (default: src).
 * Prints `path:line: N chars` per long line, `path: N lines` per long file, then a count; exits 1
 * when there is any offence.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';

const MAX_LINES = 350;
const MAX_CHARS = 120;

const LITERAL_KINDS = new Set([
  ts.SyntaxKind.StringLiteral,
  ts.SyntaxKind.NoSubstitutionTemplateLiteral,
  ts.SyntaxKind.TemplateHead,
  ts.SyntaxKind.TemplateMiddle,
  ts.SyntaxKind.TemplateTail,
]);

/** [start, end) offsets of every string and template literal's text in `source`. */
function literalSpans(fileName, source) {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const spans = [];
  const visit = (node) => {
    if (LITERAL_KINDS.has(node.kind)) spans.push([node.getStart(file), node.getEnd()]);
    ts.forEachChild(node, visit);
  };
  visit(file);
  return spans.sort((a, b) => a[0] - b[0]);
}

/** Offences in one file's text: `{ line, chars }` per long line (1-based), and the line count. */
export function offencesIn(fileName, source) {
  const spans = literalSpans(fileName, source);
  const lines = source.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const long = [];
  let offset = 0;
  for (const [i, raw] of lines.entries()) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const end = offset + line.length;
    let inLiterals = 0;
    for (const [s, e] of spans) {
      if (e <= offset || s >= end) continue;
      inLiterals += Math.min(e, end) - Math.max(s, offset);
    }
    const chars = line.length - inLiterals;
    if (chars > MAX_CHARS) long.push({ line: i + 1, chars });
    offset += raw.length + 1;
  }
  return { lineCount: lines.length, long };
}

function tsFiles(dir) {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((d) => {
      const path = join(dir, d.name);
      if (d.isDirectory()) return tsFiles(path);
      return d.isFile() && d.name.endsWith('.ts') ? [path] : [];
    });
}

function main(dirs) {
  let count = 0;
  for (const path of dirs.flatMap(tsFiles)) {
    const name = relative(process.cwd(), path);
    const { lineCount, long } = offencesIn(path, readFileSync(path, 'utf8'));
    if (lineCount > MAX_LINES) {
      console.log(`${name}: ${lineCount} lines (over ${MAX_LINES})`);
      count++;
    }
    for (const o of long) console.log(`${name}:${o.line}: ${o.chars} chars`);
    count += long.length;
  }
  const what = `files over ${MAX_LINES} lines, lines over ${MAX_CHARS} chars outside literals`;
  console.log(`${count} offence${count === 1 ? '' : 's'} (${what})`);
  return count === 0 ? 0 : 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  process.exitCode = main(args.length > 0 ? args : ['src']);
}
