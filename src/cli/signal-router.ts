/**
 * herd's one listener for SIGINT and SIGTERM, installed by bin/herd.js before anything else loads
 * and never removed: Node drops a signal its event loop has not handled yet when the last listener
 * goes, so a Ctrl-C that came while the CLI loaded was lost (the run went on to the end). A signal
 * that arrives while no command listens is kept and handed to the next that subscribes (herd run
 * then writes its report marked aborted); a command that never listens exits 130 when it ends, and
 * a second signal with nobody listening ends herd at once.
 */
export type HerdSignal = 'SIGINT' | 'SIGTERM';

export interface SignalRouter {
  /** Routes signals to `handler`, first any that came while nobody listened; returns an unsubscribe. */
  subscribe(handler: (signal: HerdSignal) => void): () => void;
  /** Signals that came while nobody listened and no command has taken yet. */
  readonly pending: number;
}

interface SignalSource {
  on(signal: HerdSignal, listener: () => void): unknown;
}

export function installSignalRouter(source: SignalSource, exitNow: (code: number) => void): SignalRouter {
  const kept: HerdSignal[] = [];
  let subscriber: ((signal: HerdSignal) => void) | null = null;
  const route = (signal: HerdSignal): void => {
    if (subscriber !== null) return subscriber(signal);
    kept.push(signal);
    if (kept.length > 1) exitNow(130);
  };
  source.on('SIGINT', () => route('SIGINT'));
  source.on('SIGTERM', () => route('SIGTERM'));
  return {
    subscribe(handler) {
      subscriber = handler;
      for (const signal of kept.splice(0)) handler(signal);
      return () => {
        if (subscriber === handler) subscriber = null;
      };
    },
    get pending() {
      return kept.length;
    },
  };
}
