/** SMPP command_status classification: transient ones are retried, permanent ones are not. */
export const SMPP_STATUS = {
  ESME_ROK: 0x00,
  ESME_RMSGQFUL: 0x14,
  ESME_RSYSERR: 0x08,
  ESME_RBINDFAIL: 0x0d,
  ESME_RINVPASWD: 0x0e,
  ESME_RINVSYSID: 0x0f,
  ESME_RTHROTTLED: 0x58,
  ESME_RX_T_APPN: 0x64,
  ESME_RINVDSTADR: 0x0b,
  ESME_RSUBMITFAIL: 0x45,
} as const;

const TRANSIENT = new Set<number>([SMPP_STATUS.ESME_RMSGQFUL, SMPP_STATUS.ESME_RSYSERR, SMPP_STATUS.ESME_RTHROTTLED, SMPP_STATUS.ESME_RX_T_APPN]);

export function statusName(status: number): string {
  const hit = Object.entries(SMPP_STATUS).find(([, v]) => v === status);
  return hit ? hit[0] : `0x${status.toString(16).padStart(8, '0')}`;
}

/** A failure worth retrying: throttling, a full queue, a dropped or slow bind. */
export class SmppTransientError extends Error {
  constructor(message: string, readonly commandStatus?: number) {
    super(message);
    this.name = 'SmppTransientError';
  }
}

/** The SMSC refused the message for good (bad address, bad content, …). */
export class SmppPermanentError extends Error {
  constructor(message: string, readonly commandStatus: number) {
    super(message);
    this.name = 'SmppPermanentError';
  }
}

export function errorForStatus(command: string, status: number): SmppTransientError | SmppPermanentError {
  const msg = `${command} refused by SMSC with ${statusName(status)}`;
  return TRANSIENT.has(status) ? new SmppTransientError(msg, status) : new SmppPermanentError(msg, status);
}
