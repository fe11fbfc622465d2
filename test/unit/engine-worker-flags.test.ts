/**
 * Worker processes get small V8 semi-spaces and one malloc arena (docs/performance.md, "Memory per
 * held connection"), unless the user chose otherwise (command line, NODE_OPTIONS, environment).
 */
import { describe, expect, it } from 'vitest';
import { workerEnv, workerExecArgv } from '../../src/engine/coordinator.js';

describe('worker V8 flags', () => {
  it('adds --max-semi-space-size=1 after what the coordinator was started with', () => {
    expect(workerExecArgv(['--enable-source-maps'], undefined)).toEqual([
      '--enable-source-maps',
      '--max-semi-space-size=1',
    ]);
    expect(workerExecArgv([], '--import=/x/probe.js --expose-gc')).toEqual(['--max-semi-space-size=1']);
  });

  it("keeps the user's own semi-space size, given either way", () => {
    expect(workerExecArgv(['--max-semi-space-size=16'], undefined)).toEqual(['--max-semi-space-size=16']);
    expect(workerExecArgv([], '--max_semi_space_size=8')).toEqual([]);
    expect(workerExecArgv(['--inspect'], '--semi-space-growth-factor=4')).toEqual(['--inspect']);
  });
});

describe('worker environment', () => {
  it('sets MALLOC_ARENA_MAX=1 and keeps everything else', () => {
    expect(workerEnv({ PATH: '/bin', HERD_X: 'y' })).toEqual({ PATH: '/bin', HERD_X: 'y', MALLOC_ARENA_MAX: '1' });
  });

  it("keeps the user's own arena count", () => {
    expect(workerEnv({ MALLOC_ARENA_MAX: '4' })).toEqual({ MALLOC_ARENA_MAX: '4' });
  });
});
