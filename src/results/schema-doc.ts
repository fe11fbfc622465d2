/**
 * docs/results.md, generated from the same zod schema as schemas/results.schema.json, so the
 * field reference cannot drift from what readers accept. Pure: returns text; the writer is
 * schema-write.ts and a unit test checks the committed files are current.
 */
import { RESULTS_SCHEMA_VERSION } from './types.js';
import { resultsJsonSchema } from './schema.js';

type Node = Record<string, unknown>;

export interface FieldDoc {
  path: string;
  type: string;
  description: string;
}

function typeOf(node: Node): string {
  if (node.const !== undefined) return JSON.stringify(node.const);
  if (Array.isArray(node.enum)) return node.enum.map((v) => JSON.stringify(v)).join(' \\| ');
  const alts = (node.anyOf ?? node.oneOf) as Node[] | undefined;
  if (alts) return [...new Set(alts.map(typeOf))].join(' \\| ');
  if (Array.isArray(node.type)) return node.type.join(' \\| ');
  if (node.type === 'array') {
    if (Array.isArray(node.prefixItems)) return `[${(node.prefixItems as Node[]).map(typeOf).join(', ')}]`;
    return `${typeOf((node.items ?? {}) as Node)}[]`;
  }
  if (node.type === 'object' && node.additionalProperties && !node.properties) return 'object (map)';
  return typeof node.type === 'string' ? node.type : 'any';
}

/** Every field of the schema with its path, type and description, in schema order. */
export function resultsFieldDocs(): FieldDoc[] {
  const out: FieldDoc[] = [];
  /** `self`: list the node itself (false for array items and map values, described by their container). */
  const visit = (node: Node, path: string, self: boolean): void => {
    const description = typeof node.description === 'string' ? node.description : '';
    const alts = ((node.oneOf ?? node.anyOf) as Node[] | undefined)?.filter((a) => a.type !== 'null');
    const inner = alts && alts.length === 1 && alts[0] ? alts[0] : node;
    if (self) out.push({ path, type: typeOf(node), description: description || String(inner.description ?? '') });
    const variants = (inner.oneOf ?? inner.anyOf) as Node[] | undefined;
    if (variants) {
      for (const v of variants) {
        const props = (v.properties ?? {}) as Record<string, Node>;
        const tag = Object.entries(props).find(([, p]) => p.const !== undefined);
        const label = tag ? `${tag[0]}=${String(tag[1].const)}` : 'variant';
        for (const [k, p] of Object.entries(props)) if (!tag || k !== tag[0]) visit(p, `${path} (${label}).${k}`, true);
      }
    } else if (inner.type === 'array' && inner.items && typeof inner.items === 'object') {
      const items = inner.items as Node;
      if (items.type === 'object' || items.oneOf || items.anyOf) visit(items, `${path}[]`, false);
    } else if (inner.type === 'object') {
      for (const [k, p] of Object.entries((inner.properties ?? {}) as Record<string, Node>))
        visit(p, path === '' ? k : `${path}.${k}`, true);
      const extra = inner.additionalProperties;
      // A map of anything (z.unknown(): `{}`) has nothing more to say than its own row.
      if (!inner.properties && extra && typeof extra === 'object' && Object.keys(extra).length > 0) {
        const names = inner.propertyNames as Node | undefined;
        const key = names && Array.isArray(names.enum) ? `<${names.enum.join('|')}>` : '<key>';
        const value = extra as Node;
        visit(value, `${path}.${key}`, value.type !== 'object' && value.type !== 'array');
      }
    }
  };
  visit(resultsJsonSchema(), '', false);
  return out;
}

const INTRO = `# results.json reference

\`results.json\` is the single source of truth of a herd run: every other format (terminal summary,
Markdown, CSV timeline, JUnit XML, HTML report) is rendered from it, \`herd report\` re-renders any of
them later, \`herd compare\` diffs two of them and \`herd merge\` combines shards.

- **Version**: \`schemaVersion\` is semantic (this herd writes **${RESULTS_SCHEMA_VERSION}**). Minor versions only add
  fields; readers refuse another major version with a clear message (exit 2). 1.1 added
  \`run.allowSaturated\`, \`run.embeddedTargetKnobs\`, \`health.affectsVerdict\`, \`health.effects\`,
  \`health.notCounted\`, \`health.advice\`, \`storm.peakSucceededPerS\` and
  \`outages[].peakSucceededPerSAfterEnd\` (1.0 files read them with their defaults); 1.3 added
  \`run.abortKind\`, \`run.maxHandshakesPerWorker\` and \`health.evidence\`, which \`herd merge\` needs to
  judge shards again (older files are merged with the kind told by their exit code and the evidence
  lines of \`health.reasons\`); 1.3 also added observed outages (\`outages[].side\` "observed",
  \`outages[].targetAcceptedAgain\`, \`scenario.observedOutages\`); 1.4 added declared outages
  (\`outages[].side\` "declared", \`outages[].commands\`, \`outages[].commandsOk\`,
  \`scenario.declaredOutages\`, whose command lines are recorded as "(not recorded)"); 1.5 added
  \`health.workers[].warmUp\`; 1.6 added \`run.warmUp\` (false with \`--no-warm-up\`); 1.7 added \`run.names\`;
  1.8 added \`outages[].interrupted\`, and since 1.8 an outage's peaks stop where the next outage starts.
- **Units** are in the field names: \`…Us\` integer microseconds, \`…Ms\` milliseconds, \`…Bytes\` bytes;
  rates are fractions (0.01 = 1%); \`t\` is whole seconds since the run origin.
- **Validation**: \`herd report\`/\`herd compare\` check every file against the schema and name each bad
  field by its path. The JSON Schema is [schemas/results.schema.json](../schemas/results.schema.json)
  (draft 2020-12); it does not forbid extra fields, so a 1.x reader accepts a later 1.y file.
- **Histograms** are HdrHistogram compressed base64 (integer µs, 3 significant digits): decode one with
  \`hdr-histogram-js\` \`decodeFromCompressedBase64\` to get any percentile, or add several to merge runs.

Generated from \`src/results/schema.ts\` — do not edit by hand; run
\`node dist/results/schema-write.js\` after \`npm run build\`.

## Fields

`;

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\n/g, ' ');
}

export function renderResultsDoc(): string {
  const rows = resultsFieldDocs().map(
    (f) => `| \`${f.path.replace(/\|/g, '\\|')}\` | ${f.type} | ${cell(f.description)} |`,
  );
  return INTRO + ['| field | type | meaning |', '| --- | --- | --- |', ...rows].join('\n') + '\n';
}
