/** "Did you mean …?" for a misspelt name: the closest known names by edit distance. */

/** Levenshtein distance, case-insensitive (a wrong capital is the commonest slip: keepAlive). */
export function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      cur.push(Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + cost));
    }
    prev = cur;
  }
  return prev[y.length] as number;
}

/** Up to `max` known names close to `name` (within a third of its length, at least 1 and at most 3 edits). */
export function closestNames(name: string, known: readonly string[], max = 3): string[] {
  const limit = Math.min(3, Math.max(1, Math.floor(name.length / 3)));
  return known
    .map((k) => ({ k, d: editDistance(name, k) }))
    .filter((c) => c.d <= limit && c.k !== name)
    .sort((a, b) => a.d - b.d || a.k.localeCompare(b.k))
    .slice(0, max)
    .map((c) => c.k);
}

/** "; did you mean keepalive?" or "" — ready to append to a message. */
export function didYouMean(name: string, known: readonly string[]): string {
  const c = closestNames(name, known);
  return c.length === 0 ? '' : `; did you mean ${c.join(' or ')}?`;
}

/** "a, b or c": a list of choices for a message. */
export function orList(words: readonly string[]): string {
  return words.length <= 1 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} or ${words.at(-1) as string}`;
}
