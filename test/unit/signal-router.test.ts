/**
 * The signal router: one listener per signal for the life of the process (removing one drops a
 * signal Node has not handled yet), kept signals handed to the next command that listens, and a
 * second signal with nobody listening ends herd at once.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { installSignalRouter, type HerdSignal } from '../../src/cli/signal-router.js';

function setup(): { proc: EventEmitter; exits: number[]; router: ReturnType<typeof installSignalRouter> } {
  const proc = new EventEmitter();
  const exits: number[] = [];
  return { proc, exits, router: installSignalRouter(proc as never, (c) => exits.push(c)) };
}

describe('signal router', () => {
  it('a signal before any command listens is handed to the first subscriber, once', () => {
    const { proc, router } = setup();
    proc.emit('SIGINT');
    expect(router.pending).toBe(1);
    const got: HerdSignal[] = [];
    router.subscribe((s) => got.push(s));
    expect([got, router.pending]).toEqual([['SIGINT'], 0]);
    proc.emit('SIGTERM');
    expect(got).toEqual(['SIGINT', 'SIGTERM']);
  });

  it('subscribing and unsubscribing never adds or removes a process listener', () => {
    const { proc, router } = setup();
    const counts = (): number[] => [proc.listenerCount('SIGINT'), proc.listenerCount('SIGTERM')];
    expect(counts()).toEqual([1, 1]);
    const off = router.subscribe(() => undefined);
    expect(counts()).toEqual([1, 1]);
    off();
    expect(counts()).toEqual([1, 1]);
  });

  it('after a command unsubscribes, a signal is kept (exit 130 at the end); a second one exits at once', () => {
    const { proc, exits, router } = setup();
    const got: HerdSignal[] = [];
    router.subscribe((s) => got.push(s))();
    proc.emit('SIGINT');
    expect([got, router.pending, exits]).toEqual([[], 1, []]);
    proc.emit('SIGINT');
    expect(exits).toEqual([130]);
  });

  it('an old subscriber unsubscribing late does not unsubscribe the current one', () => {
    const { proc, router } = setup();
    const a: HerdSignal[] = [];
    const b: HerdSignal[] = [];
    const offA = router.subscribe((s) => a.push(s));
    router.subscribe((s) => b.push(s));
    offA();
    proc.emit('SIGINT');
    expect([a, b]).toEqual([[], ['SIGINT']]);
  });
});
