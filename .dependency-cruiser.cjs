/**
 * herd's layer rules (DESIGN.md "Shape of the code", STYLE.md #18), checked by `npm run check:layers`
 * which `npm test` runs first: an upward import fails the build like a type error does.
 *
 * Tiers, highest first. A folder may import any folder in a lower tier; within a tier only the pairs
 * in SIDEWAYS are allowed. target/ is a separate program (the embedded reference cloud, always in its
 * own processes): it may import only scenario/, results/, util/ and the top-level leaves, and only the
 * use cases (run/) and the CLI may start it.
 */
const TIERS = [
  ['cli'],
  ['run'],
  ['engine', 'report', 'compare', 'export'],
  ['protocols', 'metrics', 'plan', 'thresholds'],
  ['scenario'],
  ['results', 'util', 'errors.ts', 'version.ts'],
];

/** [from, to]: sideways imports within one tier that are part of the design. */
const SIDEWAYS = [
  ['compare', 'report'], // compare renders its tables with report's helpers
  ['thresholds', 'metrics'], // threshold evaluation reads encoded histograms
  ['util', 'errors.ts'],
  ['results', 'errors.ts'],
  ['results', 'util'],
];

/** Matches a top-level folder (src/engine/…) or a top-level file (src/errors.ts). */
const re = (names) => `^src/(${names.map((n) => n.replace('.', '\\.')).join('|')})(/|$)`;

const tierRules = TIERS.flatMap((tier, i) => {
  const above = TIERS.slice(0, i).flat();
  const rules = [];
  for (const from of tier) {
    const allowedSideways = SIDEWAYS.filter(([f]) => f === from).map(([, t]) => t);
    const forbidden = [...above, ...tier.filter((t) => t !== from && !allowedSideways.includes(t))];
    if (forbidden.length === 0) continue;
    rules.push({
      name: `${from.replace('.ts', '')}-points-down`,
      severity: 'error',
      comment: `${from} may import only lower tiers (and ${allowedSideways.join(', ') || 'no sibling'} beside it)`,
      from: { path: re([from]) },
      to: { path: re(forbidden) },
    });
  }
  return rules;
});

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...tierRules,
    {
      name: 'target-is-a-separate-program',
      severity: 'error',
      comment:
        'target/ imports only scenario/, results/, util/ and the top-level leaves ' +
        '(plus engine/clock.ts until it moves to util/clock.ts)',
      from: { path: '^src/target/' },
      to: { path: '^src/', pathNot: [re(['target', 'scenario', 'results', 'util', 'errors.ts', 'version.ts']), '^src/engine/clock\\.ts$'] },
    },
    {
      name: 'readers-of-results-stay-off-the-wire',
      severity: 'error',
      comment: 'report, compare and export read results.json; what they need of the error taxonomy is in results/ (e.g. shedding.ts), never in protocols/',
      from: { path: re(['report', 'compare', 'export']) },
      to: { path: re(['protocols']) },
    },
    {
      name: 'only-run-and-cli-start-the-target',
      severity: 'error',
      comment: 'the one exception: compare reads profiles and knobs through target/options.ts, pure option resolution',
      from: { path: '^src/', pathNot: re(['target', 'run', 'cli']) },
      to: { path: '^src/target/', pathNot: '^src/target/options\\.ts$' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'a cycle of runtime imports makes layers meaningless and load order fragile',
      from: { path: '^src/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'no-circular-types',
      severity: 'error',
      comment: 'a cycle closed by a type-only import: harmless at runtime, but two modules that should be one or be layered',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'src-not-to-tests',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^src/',
    // Type-only imports are dependencies too: a layer must not even know an upper layer's types.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
