/**
 * Issue 24: who lost the messages travels through merge, compare, thresholds and the summary —
 * shards' buckets add up, compare shows each bucket's share of published, and the summary names
 * the cloud's losses first and checks the message accounting identity.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareMetrics } from '../../src/compare/metrics.js';
import { mergeResults } from '../../src/run/merge.js';
import { renderSummary } from '../../src/report/summary.js';
import { checkResults } from '../../src/results/read.js';
import type { DeliveryCounts, Results } from '../../src/results/types.js';
import { parseThresholds } from '../../src/scenario/threshold-parse.js';
import { evaluateThresholds } from '../../src/thresholds/evaluate.js';
import { ROOT } from '../helpers/cli.js';

const counts = (c: Partial<DeliveryCounts>): DeliveryCounts => ({
  published: 0,
  sent: 0,
  delivered: 0,
  lost: 0,
  lostByCloud: 0,
  neverAcknowledged: 0,
  droppedByDevice: 0,
  queuedAtEnd: 0,
  resent: 0,
  duplicated: 0,
  duplicatedByResend: 0,
  duplicatedByCloud: 0,
  outOfOrder: 0,
  tooLate: 0,
  foreign: 0,
  ...c,
});

function shard(index: number, c: DeliveryCounts): Results {
  const r = checkResults(JSON.parse(readFileSync(join(ROOT, 'fixtures/results-quickstart.json'), 'utf8')), 'fixture');
  r.run.shard = { index, count: 2 } as Results['run']['shard'];
  r.delivery = {
    ...c,
    lossRate: c.sent === 0 ? 0 : c.lost / c.sent,
    refused: c.droppedByDevice,
    targetDropped: null,
    byCohort: { default: c },
  };
  return r;
}

describe('delivery split', () => {
  const a = counts({
    published: 100,
    sent: 98,
    delivered: 90,
    lost: 8,
    lostByCloud: 5,
    neverAcknowledged: 3,
    droppedByDevice: 2,
  });
  const b = counts({ published: 50, sent: 50, delivered: 49, lost: 1, lostByCloud: 0, neverAcknowledged: 1 });

  it('merges shards bucket by bucket', () => {
    const m = mergeResults(
      [
        { path: 'a', results: shard(1, a) },
        { path: 'b', results: shard(2, b) },
      ],
      'm',
    );
    expect(m.delivery).toMatchObject({
      published: 150,
      sent: 148,
      delivered: 139,
      lost: 9,
      lostByCloud: 5,
      neverAcknowledged: 4,
      droppedByDevice: 2,
    });
    expect(m.delivery?.byCohort.default).toMatchObject({ published: 150, lostByCloud: 5 });
  });

  it('compare shows each bucket over published; thresholds read the buckets', () => {
    const r = shard(1, a);
    const rows = new Map(compareMetrics(r).map((x) => [x.key, x]));
    expect(rows.get('delivery.lostByCloud')).toMatchObject({ value: 0.05, samples: 100, direction: 'lower' });
    expect(rows.get('delivery.neverAcknowledged')).toMatchObject({ value: 0.03, samples: 100 });
    expect(rows.get('delivery.droppedByDevice')).toMatchObject({ value: 0.02, samples: 100 });
    const { thresholds } = parseThresholds({
      'delivery.lostByCloud': ['== 0'],
      'delivery.neverAcknowledged': ['<= 3'],
    });
    expect(evaluateThresholds(thresholds, r).map((t) => [t.metric, t.passed, t.observed])).toEqual([
      ['delivery.lostByCloud', false, 5],
      ['delivery.neverAcknowledged', true, 3],
    ]);
  });

  it('the summary names the cloud first and prints the message identity', () => {
    const text = renderSummary(shard(1, a));
    expect(text).toContain(
      '  lost by the cloud 5 · never acknowledged 3 · dropped by the device 2 · delivered 90 of 100 published',
    );
    expect(text).toContain(
      '  ✓ published 100 = delivered 90 + lost by the cloud 5 + never acknowledged 3 + dropped by the device 2',
    );
    const broken = renderSummary(shard(1, { ...a, delivered: 91 }));
    expect(broken).toContain('  ✗ published 100 ≠ delivered 91');
  });
});
