/** The CLI's copies of the names its help lists (src/cli/names.ts) against the modules that define them. */
import { describe, expect, it } from 'vitest';
import * as names from '../../src/cli/names.js';
import { TARGET_PROFILE_NAMES } from '../../src/scenario/target-options.js';
import { REPORT_FORMATS } from '../../src/report/render.js';
import { COMPARE_FORMATS } from '../../src/compare/render.js';

describe('CLI name lists', () => {
  it('equal the lists of the modules that define them, in order', () => {
    expect(names.TARGET_PROFILE_NAMES).toEqual(TARGET_PROFILE_NAMES);
    expect(names.REPORT_FORMATS).toEqual(REPORT_FORMATS);
    expect(names.COMPARE_FORMATS).toEqual(COMPARE_FORMATS);
  });
});
