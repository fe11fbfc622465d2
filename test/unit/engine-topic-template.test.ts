import { describe, expect, it } from 'vitest';
import { TopicTemplate } from '../../src/engine/topic.js';
import { expandTemplate } from '../../src/scenario/template.js';

describe('compiled publish topic template', () => {
  it('expands {id}, {id/N}, {id%N}, {run} and {cohort} per device', () => {
    const t = new TopicTemplate('herd/{run}/{cohort}/{id}/g{id/100}/s{id%7}', 'r1', 'fleet');
    expect(t.expand(0)).toBe('herd/r1/fleet/0/g0/s0');
    expect(t.expand(1234)).toBe('herd/r1/fleet/1234/g12/s2');
    expect(t.expand(4_294_967_295)).toBe('herd/r1/fleet/4294967295/g42949672/s3');
  });

  it('leaves unknown names and a division by zero as written, as identity templates do', () => {
    const t = new TopicTemplate('a/{worker}/{id/0}/{id%0}/{id}/{nope%3}', 'r', 'c');
    expect(t.expand(9)).toBe('a/{worker}/{id/0}/{id%0}/9/{nope%3}');
  });

  it('shares one string across the cohort when the topic has no {id}', () => {
    const t = new TopicTemplate('fleet/{cohort}/{run}/all', 'r2', 'north');
    expect(t.expand(1)).toBe('fleet/north/r2/all');
    expect(t.expand(2)).toBe(t.expand(1));
    expect(new TopicTemplate('', 'r', 'c').expand(5)).toBe('');
  });

  it('does not expand placeholders that a run id or cohort name happens to contain', () => {
    const t = new TopicTemplate('{cohort}/{id}', 'r', 'x{id}');
    expect(t.expand(3)).toBe('x{id}/3');
  });

  it('gives what expandTemplate gives for the same device', () => {
    const templates = ['{id}', 'd{id}{id}', '{run}-{id%10}-{cohort}', 'plain', '{ id }/{id/3}x', '{{id}}'];
    for (const tpl of templates)
      for (const id of [0, 7, 10, 99_999]) {
        const vars = { id, run: 'run-9', cohort: 'c0' };
        expect(new TopicTemplate(tpl, 'run-9', 'c0').expand(id)).toBe(expandTemplate(tpl, vars));
      }
  });
});
