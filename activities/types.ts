/** The activity interface the workflows call; implemented in ./index.ts. */
import type { DeliveryStatus } from '../contract';

export interface DispatchCodeInput {
  sessionWorkflowId: string;
  codeSeq: number;
  /** Random per-code nonce; the code is HMAC(OTP_CODE_KEY, workflowId|nonce), so a retry resends the same code. */
  nonce: string;
  phone: string;
  codeLength: number;
  ttlSeconds: number;
  /** Epoch ms after which the code is dead; SMSC validity should not outlive it. */
  expiresAtMs: number;
  brand?: string;
}

export interface DispatchCodeResult {
  /** Digest of the code (see contract/keys.ts codeDigest); the code itself never leaves the activity. */
  codeDigest: string;
  messageIds: string[];
  segments: number;
  encoding: 'GSM7' | 'UCS2';
  delivery: DeliveryStatus;
}

export interface OtpActivities {
  dispatchCode(input: DispatchCodeInput): Promise<DispatchCodeResult>;
}
