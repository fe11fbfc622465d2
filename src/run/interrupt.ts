/**
 * Ctrl-C for long-running commands. The CLI subscribes to signals as soon as a command starts and
 * forwards them here; a run attaches its stop function once its coordinator exists. A signal that
 * came before that (while the scenario loaded or the target started) is replayed at once, so an
 * early Ctrl-C still ends in a report marked aborted, never in a silent exit.
 */
export class Interrupt {
  private first: string | null = null;
  private count = 0;
  private stop: ((reason: string) => void) | null = null;

  /** A signal arrived: the first stops the run in progress (or the next one), a second forces it. */
  request(reason: string): void {
    this.count++;
    this.first ??= reason;
    this.stop?.(reason);
  }

  /** Why the command was interrupted, or null. */
  get reason(): string | null {
    return this.first;
  }

  /** Attaches a run's stop function and replays every request made before it; returns a detach function. */
  attach(stop: (reason: string) => void): () => void {
    this.stop = stop;
    for (let i = 0; i < this.count; i++) stop(this.first as string);
    return () => {
      if (this.stop === stop) this.stop = null;
    };
  }
}
