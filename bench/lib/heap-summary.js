/**
 * Counts the objects of a V8 heap snapshot (.heapsnapshot, as the probe writes with
 * HERD_BENCH_HEAP_SNAPSHOT=1) by type and constructor name, with their self sizes: with N sessions
 * held, a class with ~N (or k·N) instances is per-connection state, and its bytes / N is what one
 * connection costs in it. Native objects Node reports through its embedder graph (TCPWrap…) appear
 * with the sizes Node gives them.
 *
 *   node bench/lib/heap-summary.js heap-123.heapsnapshot [--per 7500] [--top 25]
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * @param {string} path
 * @returns {{ type: string, name: string, count: number, selfBytes: number }[]} largest first
 */
export function summariseSnapshot(path) {
  const snap = JSON.parse(readFileSync(path, 'utf8'));
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const stride = fields.length;
  const iType = fields.indexOf('type');
  const iName = fields.indexOf('name');
  const iSize = fields.indexOf('self_size');
  const nodes = snap.nodes;
  const strings = snap.strings;
  /** @type {Map<string, { type: string, name: string, count: number, selfBytes: number }>} */
  const groups = new Map();
  for (let i = 0; i < nodes.length; i += stride) {
    const type = types[nodes[i + iType]];
    // Strings, numbers and code are grouped by type only: their "names" are their contents.
    const name =
      type === 'object' || type === 'native' || type === 'closure' || type === 'hidden' || type === 'array'
        ? strings[nodes[i + iName]]
        : '';
    const key = `${type}\u0000${name}`;
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = { type, name, count: 0, selfBytes: 0 }));
    g.count++;
    g.selfBytes += nodes[i + iSize];
  }
  return [...groups.values()].sort((a, b) => b.selfBytes - a.selfBytes);
}

/** Lines of a table: the `top` largest groups, with bytes per `per` (sessions held) when given. */
export function formatSummary(groups, per, top) {
  const total = groups.reduce((n, g) => n + g.selfBytes, 0);
  const lines = [
    `total self size ${total.toLocaleString('en-US')} B${per ? ` · ${(total / per).toFixed(0)} B per held connection` : ''}`,
  ];
  lines.push('| type | constructor | count | self bytes | bytes / held conn |', '|---|---|---:|---:|---:|');
  for (const g of groups.slice(0, top)) {
    lines.push(
      `| ${g.type} | ${g.name.slice(0, 60) || '—'} | ${g.count} | ${g.selfBytes.toLocaleString('en-US')} | ${per ? (g.selfBytes / per).toFixed(1) : '—'} |`,
    );
  }
  return lines;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const path = process.argv[2];
  if (path === undefined) {
    process.stderr.write('usage: node bench/lib/heap-summary.js FILE.heapsnapshot [--per N] [--top K]\n');
    process.exit(2);
  }
  const opt = (name, dflt) => {
    const i = process.argv.indexOf(`--${name}`);
    return i === -1 ? dflt : Number(process.argv[i + 1]);
  };
  for (const line of formatSummary(summariseSnapshot(path), opt('per', 0), opt('top', 25))) console.log(line);
}
