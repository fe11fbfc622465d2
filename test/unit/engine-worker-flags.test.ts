/**
 * Worker processes get small V8 semi-spaces (docs/performance.md, "Memory per held connection"),
 * unless the user chose a size, on the command line or in NODE_OPTIONS.
 */
import { describe, expect, it } from 'vitest';
import { workerExecArgv } from '../../src/engine/coordinator.js';

describe('worker V8 flags', () => {
  it('adds --max-semi-space-size=1 after what the coordinator was started with', () => {
    expect(workerExecArgv(['--enable-source-maps'], undefined)).toEqual(['--enable-source-maps', '--max-semi-space-size=1']);
    expect(workerExecArgv([], '--import=/x/probe.js --expose-gc')).toEqual(['--max-semi-space-size=1']);
  });

  it("keeps the user's own semi-space size, given either way", () => {
    expect(workerExecArgv(['--max-semi-space-size=16'], undefined)).toEqual(['--max-semi-space-size=16']);
    expect(workerExecArgv([], '--max_semi_space_size=8')).toEqual([]);
    expect(workerExecArgv(['--inspect'], '--semi-space-growth-factor=4')).toEqual(['--inspect']);
  });
});
