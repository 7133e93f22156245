/**
 * Sender approval (issue 12): a profile revision — its effective content, named by a content
 * hash — is proposed by one identity and approved or rejected by another; only approved
 * revisions send. Pure (no Node built-ins): the approval workflow and the workers' cache both
 * apply these rules. The hash itself is computed in ./store.ts (profileContentHash).
 */
import { NAME_PATTERN, type SendRefusalStatus, type SenderRevision, type SenderRevisionContent } from '../contract';

/** `required`: sends on a revision nobody approved are refused. `off`: the embedded stack's development switch. */
export type SenderApprovalMode = 'off' | 'required';

/** Typed reasons a proposal or a decision is refused; the workflow turns them into ApplicationFailures of this type. */
export type ApprovalErrorType = 'SelfApproval' | 'RevisionNotFound' | 'InvalidState' | 'InvalidRequest';

export class ApprovalError extends Error {
  constructor(
    readonly type: ApprovalErrorType,
    message: string,
  ) {
    super(message);
    this.name = 'ApprovalError';
  }
}

/** Printable, no control characters: identities sit in the trail verbatim. */
const IDENTITY = /^[^\p{Cc}\p{Cf}]{1,200}$/u;
const PROFILE_NAME = NAME_PATTERN;
const CONTENT_HASH = /^[0-9a-f]{64}$/;

/** The identity as recorded: trimmed; refused when empty, too long or holding control characters. */
export function checkIdentity(by: unknown): string {
  const id = typeof by === 'string' ? by.trim() : '';
  if (!IDENTITY.test(id)) throw new ApprovalError('InvalidRequest', 'by (the identity) must be 1–200 printable characters, e.g. "n8n:alice@example.com"');
  return id;
}

/** Two spellings of one identity are one identity: case and surrounding spaces do not make a second person. */
export function sameIdentity(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

export function checkProfileName(profile: unknown): string {
  if (typeof profile !== 'string' || !PROFILE_NAME.test(profile))
    throw new ApprovalError('InvalidRequest', 'profile must be a profile name (1–64 characters of A–Z a–z 0–9 _ . -)');
  return profile;
}

export function checkContentHash(hash: unknown): string {
  if (typeof hash !== 'string' || !CONTENT_HASH.test(hash))
    throw new ApprovalError('InvalidRequest', 'contentHash must be 64 lower-case hex digits (sha256 of the revision)');
  return hash;
}

function checkNote(note: unknown): string | undefined {
  if (note === undefined) return undefined;
  if (typeof note !== 'string' || note.length > 500 || !/^[^\p{Cc}]*$/u.test(note))
    throw new ApprovalError('InvalidRequest', 'note must be at most 500 characters without control characters');
  return note;
}

/** The record of one profile and content hash, if any. */
export function findRevision(trail: readonly SenderRevision[], profile: string, contentHash: string): SenderRevision | undefined {
  return trail.find((r) => r.profile === profile && r.contentHash === contentHash);
}

/** The profile's revision approved last, which a new proposal replaces. */
export function latestApproved(trail: readonly SenderRevision[], profile: string): SenderRevision | undefined {
  let latest: SenderRevision | undefined;
  for (const r of trail) if (r.profile === profile && r.state === 'approved' && (!latest || (r.decidedAt ?? '') >= (latest.decidedAt ?? ''))) latest = r;
  return latest;
}

/** Validates a proposal's request (before any activity runs): the identity and profile name. */
export function checkProposal(req: { profile?: unknown; by?: unknown; note?: unknown }): { profile: string; by: string; note?: string } {
  return { profile: checkProfileName(req.profile), by: checkIdentity(req.by), note: checkNote(req.note) };
}

/**
 * Records a proposal of `content` (what the workers have for the profile). A revision already
 * proposed or approved is answered as it stands (a repeated proposal changes nothing); a
 * rejected one is proposed again, by this identity.
 */
export function applyProposal(trail: SenderRevision[], content: SenderRevisionContent, by: string, at: string, note?: string): SenderRevision {
  const existing = findRevision(trail, content.profile, content.contentHash);
  if (existing && existing.state !== 'rejected') return existing;
  const record: SenderRevision = {
    ...content,
    previous: latestApproved(trail, content.profile)?.contentHash ?? null,
    state: 'proposed',
    proposedBy: by,
    proposedAt: at,
    ...(note !== undefined ? { note } : {}),
  };
  if (existing) trail.splice(trail.indexOf(existing), 1);
  trail.push(record);
  return record;
}

export type Decision = 'approve' | 'reject';

/**
 * Checks a decision before it enters history: the revision exists, is in a state the decision
 * applies to (approve: proposed; reject: proposed, or approved to revoke it), and the decider is
 * not its proposer.
 */
export function checkDecision(
  trail: readonly SenderRevision[],
  req: { profile?: unknown; contentHash?: unknown; by?: unknown; note?: unknown },
  decision: Decision,
): { record: SenderRevision; by: string; note?: string } {
  const profile = checkProfileName(req.profile);
  const contentHash = checkContentHash(req.contentHash);
  const by = checkIdentity(req.by);
  const note = checkNote(req.note);
  const record = findRevision(trail, profile, contentHash);
  if (!record) throw new ApprovalError('RevisionNotFound', `no revision ${contentHash.slice(0, 12)}… of profile "${profile}" was proposed`);
  const allowed = decision === 'approve' ? record.state === 'proposed' : record.state === 'proposed' || record.state === 'approved';
  if (!allowed)
    throw new ApprovalError(
      'InvalidState',
      `revision ${contentHash.slice(0, 12)}… of profile "${profile}" is ${record.state}: it cannot be ${decision === 'approve' ? 'approved' : 'rejected'}`,
    );
  if (sameIdentity(record.proposedBy, by))
    throw new ApprovalError('SelfApproval', `"${by}" proposed this revision and cannot ${decision} it: another identity must decide`);
  return { record, by, note };
}

export function applyDecision(record: SenderRevision, decision: Decision, by: string, at: string, note?: string): SenderRevision {
  record.state = decision === 'approve' ? 'approved' : 'rejected';
  record.decidedBy = by;
  record.decidedAt = at;
  if (note !== undefined) record.decisionNote = note;
  else delete record.decisionNote;
  return record;
}

/** What a worker keeps of a tenant's trail: per profile, the state of each content hash. */
export type ApprovalView = ReadonlyMap<string, ReadonlyMap<string, SenderRevision['state']>>;

export function approvalView(trail: readonly SenderRevision[]): ApprovalView {
  const view = new Map<string, Map<string, SenderRevision['state']>>();
  for (const r of trail) {
    let byHash = view.get(r.profile);
    if (!byHash) view.set(r.profile, (byHash = new Map()));
    byHash.set(r.contentHash, r.state);
  }
  return view;
}

export interface ApprovalRefusal {
  status: Extract<SendRefusalStatus, 'blocked' | 'overloaded'>;
  reason: 'sender_not_approved' | 'sender_rejected' | 'sender_approvals_unavailable';
  retryAfterSeconds?: number;
}

/**
 * May a send on this profile revision go out? `view` is the worker's copy of the tenant's trail,
 * `ageMs` its age (undefined: never loaded). Fails closed: a copy older than `maxStaleMs`, or
 * none, refuses the send (retry later) rather than send on what might since have been revoked.
 */
export function approvalRefusal(
  view: ApprovalView | undefined,
  ageMs: number | undefined,
  maxStaleMs: number,
  profile: string,
  contentHash: string,
): ApprovalRefusal | null {
  if (view === undefined || ageMs === undefined || ageMs > maxStaleMs)
    return { status: 'overloaded', reason: 'sender_approvals_unavailable', retryAfterSeconds: 5 };
  const state = view.get(profile)?.get(contentHash);
  if (state === 'approved') return null;
  if (state === 'rejected') return { status: 'blocked', reason: 'sender_rejected' };
  return { status: 'blocked', reason: 'sender_not_approved' };
}
