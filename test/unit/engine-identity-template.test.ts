/**
 * Identity templates are compiled once per cohort (only {id} is joined in per attempt); the result
 * must be what expandTemplate gives for every template and id, unknown names left as written.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileIdTemplate } from '../../src/protocols/identity.js';
import { expandTemplate } from '../../src/scenario/template.js';

const fixed = { run: 'r-20261130', worker: 1, cohort: 'meters' };
const piece = fc.oneof(
  fc.constantFrom(
    '{id}',
    '{run}',
    '{worker}',
    '{cohort}',
    '{nope}',
    '{',
    '}',
    '{{id}}',
    '-',
    '{id/2}',
    '{id%10}',
    '{id/0}',
    '{run%3}',
  ),
  fc.string({ maxLength: 6 }),
);

describe('compiled identity templates', () => {
  it('give what expandTemplate gives, for any template and device id', () => {
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 8 }), fc.nat(10_000_000), (pieces, id) => {
        const template = pieces.join('');
        expect(compileIdTemplate(template, expandTemplate, fixed)(id)).toBe(expandTemplate(template, { ...fixed, id }));
      }),
      { numRuns: 2_000 },
    );
  });

  it('a template without {id} is one constant string', () => {
    const t = compileIdTemplate('dev-{cohort}-{worker}', expandTemplate, fixed);
    expect([t(1), t(2)]).toEqual(['dev-meters-1', 'dev-meters-1']);
    expect(compileIdTemplate('{run}/{id}/{id}', expandTemplate, fixed)(42)).toBe('r-20261130/42/42');
  });
});
