/**
 * One wake-up timer for the session's main loop, re-armed only when its
 * instant changes: a handler that changes nothing about the next deadline
 * costs no TimerCanceled / TimerStarted pair in history.
 */
import { CancellationScope, isCancellation, sleep } from '@temporalio/workflow';

export class WakeUp {
  private at?: number;
  private scope?: CancellationScope;
  private done = false;

  /** Arms the timer for `at` (epoch ms, workflow time), keeping it when it is already set for that instant. */
  arm(at: number): void {
    if (this.at === at && this.scope) return;
    this.scope?.cancel();
    this.at = at;
    this.done = false;
    const scope = new CancellationScope();
    this.scope = scope;
    scope
      .run(() => sleep(Math.max(1, at - Date.now())))
      .then(
        () => {
          if (this.scope === scope) this.done = true;
        },
        (err: unknown) => {
          if (!isCancellation(err)) throw err;
        },
      );
  }

  /** True once the armed instant has passed. */
  get fired(): boolean {
    return this.done;
  }
}
