/**
 * The channel chain of one code (sessions v7): when it moves to its next
 * step, why, and how its steps look to the status query. Pure.
 */
import type { ChainStepOutcome, FallbackChannel } from '../../contract';
import { escalatesNow, finalSmsFailure, nextEscalationAtMs, pendingFallbacks } from './delivery';
import type { IssuedCode } from './state';

/** The outcome of the step under way: the last one started (skipped steps have none). */
export function currentOutcome(c: IssuedCode): ChainStepOutcome | undefined {
  return c.chain?.outcomes[c.chain.outcomes.length - 1];
}

/** The first later step with somewhere to go (a step without a destination for this send is skipped), or undefined. */
export function nextStepIndex(c: IssuedCode): number | undefined {
  const ch = c.chain;
  const channel = ch && pendingFallbacks(c)[0];
  return channel ? ch.steps.findIndex((s, i) => i > ch.at && s.channel === channel) : undefined;
}

/** The current step failed: refused at submit, a receipt the step moves on for, every SMS try used, or the channel kept refusing. */
export function stepFailed(c: IssuedCode): boolean {
  const ch = c.chain!;
  if (currentOutcome(c)?.outcome === 'failed') return true;
  return ch.at === 0 && (finalSmsFailure(c) || escalatesNow(c));
}

/** When the chain moves on: now once the step failed; else at its deadline, unless the SMS was delivered (at any step) or, with untilVerified, unless the code was verified. An email or a POST taken is no proof the user has the code, so it does not stop the chain. */
export function chainMoveAtMs(c: IssuedCode, now: number): number | undefined {
  const ch = c.chain;
  if (!ch || c.state !== 'active' || nextStepIndex(c) === undefined) return undefined;
  if (stepFailed(c)) return now < c.expiresAtMs ? now : undefined;
  const step = ch.steps[ch.at];
  if (!step.untilVerified && c.delivery === 'delivered') return undefined;
  const at = ch.startedAtMs + step.deadlineSeconds * 1000;
  return at < c.expiresAtMs ? at : undefined; // a step after expiry cannot help anyone
}

/** When the next fallback is due: the chain's rule (v7), or v6's escalation schedule. */
export function nextStepAtMs(c: IssuedCode, now: number): number | undefined {
  return c.chain ? chainMoveAtMs(c, now) : nextEscalationAtMs(c, now);
}

/** Why the current step ends now, for its outcome and the session's events (never a code or a contact). */
export function moveReason(c: IssuedCode): string {
  const ch = c.chain!;
  const step = ch.steps[ch.at];
  const o = currentOutcome(c);
  if (o?.outcome === 'failed' && o.reason) return o.reason;
  if (ch.at === 0 && c.delivery === 'failed') return `SMS ${c.deliveryStat ?? 'failed'}`;
  if (ch.at === 0 && c.delivery !== 'delivered') return `no receipt within ${step.deadlineSeconds} s`;
  return `not verified within ${step.deadlineSeconds} s`;
}

/** Ends the current step and starts `next`; returns the channel to send on. */
export function startStep(c: IssuedCode, next: number, now: number): FallbackChannel {
  const ch = c.chain!;
  const current = currentOutcome(c);
  if (current && (current.outcome === 'pending' || current.outcome === 'sent')) {
    current.outcome = stepFailed(c) ? 'failed' : 'moved_on';
    current.reason = moveReason(c);
  }
  const channel = ch.steps[next].channel as FallbackChannel;
  ch.at = next;
  ch.startedAtMs = now;
  ch.outcomes.push({ channel, startedAt: new Date(now).toISOString(), outcome: 'pending' });
  return channel;
}

/** The steps as the status query shows them: the SMS step's live outcome, and "stopped" for a step still under way on a code that is done. */
export function stepsView(c: IssuedCode, now: number): { index: number; channel: ChainStepOutcome['channel']; steps: ChainStepOutcome[] } | undefined {
  const ch = c.chain;
  if (!ch) return undefined;
  const done = c.state !== 'active' || now >= c.expiresAtMs;
  const steps = ch.outcomes.map((o, i): ChainStepOutcome => {
    let view = { ...o };
    if (i === 0 && o.outcome === 'pending') {
      if (c.delivery === 'delivered') view = { ...view, outcome: 'delivered', reason: 'DELIVRD' };
      else if (c.delivery === 'failed') view = { ...view, outcome: 'failed', reason: c.deliveryStat ?? 'failed' };
    }
    if (done && view.outcome === 'pending') view = { ...view, outcome: 'stopped', reason: c.state === 'active' ? 'expired' : c.state };
    return view;
  });
  return { index: ch.at, channel: ch.steps[ch.at].channel, steps };
}
