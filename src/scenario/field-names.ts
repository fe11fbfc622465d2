/**
 * The field names valid at a path of a scenario, read from the generated JSON Schema, so an
 * unknown field can be answered with "did you mean …?" from the names that belong there.
 */
import { scenarioJsonSchema } from './json-schema.js';

type Node = Record<string, unknown>;

let cached: Node | null = null;

function branches(n: Node): Node[] {
  const alts = [
    ...((n.anyOf as Node[] | undefined) ?? []),
    ...((n.oneOf as Node[] | undefined) ?? []),
    ...((n.allOf as Node[] | undefined) ?? []),
  ];
  return alts.length === 0 ? [n] : alts.flatMap(branches);
}

/** Names of the fields an object at `path` may have (empty when the path is not an object). */
export function fieldNamesAt(path: readonly PropertyKey[]): string[] {
  cached ??= scenarioJsonSchema();
  let nodes: Node[] = [cached];
  for (const seg of path) {
    const next: Node[] = [];
    for (const n of nodes.flatMap(branches)) {
      if (typeof seg === 'number') {
        if (n.items && typeof n.items === 'object') next.push(n.items as Node);
      } else {
        const child = (n.properties as Record<string, Node> | undefined)?.[String(seg)];
        if (child) next.push(child);
      }
    }
    nodes = next;
  }
  const names = new Set<string>();
  for (const n of nodes.flatMap(branches))
    for (const k of Object.keys((n.properties as Node | undefined) ?? {})) names.add(k);
  return [...names];
}
