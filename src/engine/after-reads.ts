/**
 * A judgement that must wait until the worker has read what reached its sockets (an unanswered
 * PINGREQ: its answer may be sitting unread after a stall of herd's own). It runs in the immediate
 * after the loop's poll phase; while the native core says its reads are behind (it reads 2,048
 * events a loop turn, so timers keep theirs), in the turns after, MAX_TURNS at most. One is pending
 * at a time: a schedule while one waits joins it.
 */
import type { EngineClock } from '../util/clock.js';

/** Loop turns a judgement waits at most for the native core to read what arrived. */
const MAX_TURNS = 64;

export class AfterReads {
  private pending = false;
  private turns = 0;

  /**
   * @param behind whether the transport left socket events unread in its last turn
   * @param live false once the run tears down: a pending judgement is then dropped
   */
  constructor(
    private readonly clock: EngineClock,
    private readonly behind: () => boolean,
    private readonly live: () => boolean,
    private readonly judge: (nowUs: number) => void,
  ) {}

  schedule(): void {
    if (this.pending) return;
    this.pending = true;
    this.turns = 0;
    this.clock.setImmediate(run, this);
  }

  run(): void {
    if (this.live() && this.behind() && ++this.turns <= MAX_TURNS) {
      this.clock.setImmediate(run, this);
      return;
    }
    this.pending = false;
    if (this.live()) this.judge(this.clock.nowUs());
  }
}

function run(a: AfterReads): void {
  a.run();
}
