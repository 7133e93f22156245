/** SMPP command_status classification: transient ones are retried, permanent ones are not. */
export const SMPP_STATUS = {
  ESME_ROK: 0x00,
  ESME_RINVMSGLEN: 0x01,
  ESME_RINVCMDLEN: 0x02,
  ESME_RINVCMDID: 0x03,
  ESME_RINVBNDSTS: 0x04,
  ESME_RALYBND: 0x05,
  ESME_RSYSERR: 0x08,
  ESME_RINVSRCADR: 0x0a,
  ESME_RINVDSTADR: 0x0b,
  ESME_RINVMSGID: 0x0c,
  ESME_RBINDFAIL: 0x0d,
  ESME_RINVPASWD: 0x0e,
  ESME_RINVSYSID: 0x0f,
  ESME_RMSGQFUL: 0x14,
  ESME_RINVESMCLASS: 0x43,
  ESME_RSUBMITFAIL: 0x45,
  ESME_RINVSRCTON: 0x48,
  ESME_RINVSRCNPI: 0x49,
  ESME_RINVDSTTON: 0x50,
  ESME_RINVDSTNPI: 0x51,
  ESME_RTHROTTLED: 0x58,
  ESME_RINVSCHED: 0x61,
  ESME_RINVEXPIRY: 0x62,
  ESME_RX_T_APPN: 0x64,
  ESME_RX_P_APPN: 0x65,
  ESME_RX_R_APPN: 0x66,
  ESME_RINVTLVLEN: 0xc2,
  ESME_RUNKNOWNERR: 0xff,
} as const;

/** The SMSC is busy: back off and try again, never fail the message for it. */
export const BACKOFF = new Set<number>([SMPP_STATUS.ESME_RTHROTTLED, SMPP_STATUS.ESME_RMSGQFUL]);

/**
 * Worth another attempt later or on another bind. Everything else (bad
 * address, bad TON/NPI, bad length, rejected content, permanent app error) is
 * permanent: resending the same PDU cannot succeed.
 */
const TRANSIENT = new Set<number>([
  ...BACKOFF,
  SMPP_STATUS.ESME_RSYSERR,
  SMPP_STATUS.ESME_RINVBNDSTS,
  SMPP_STATUS.ESME_RSUBMITFAIL,
  SMPP_STATUS.ESME_RX_T_APPN,
  SMPP_STATUS.ESME_RUNKNOWNERR,
]);

export function isTransientStatus(status: number): boolean {
  return TRANSIENT.has(status);
}

export function statusName(status: number): string {
  const hit = Object.entries(SMPP_STATUS).find(([, v]) => v === status);
  return hit ? hit[0] : `0x${status.toString(16).padStart(8, '0')}`;
}

/** A failure worth retrying: throttling, a full queue, a dropped or slow bind. */
export class SmppTransientError extends Error {
  constructor(
    message: string,
    readonly commandStatus?: number,
  ) {
    super(message);
    this.name = 'SmppTransientError';
  }
}

/** The SMSC refused the message for good (bad address, bad content, …). */
export class SmppPermanentError extends Error {
  constructor(
    message: string,
    readonly commandStatus: number,
  ) {
    super(message);
    this.name = 'SmppPermanentError';
  }
}

export function errorForStatus(command: string, status: number): SmppTransientError | SmppPermanentError {
  const msg = `${command} refused by SMSC with ${statusName(status)}`;
  return isTransientStatus(status) ? new SmppTransientError(msg, status) : new SmppPermanentError(msg, status);
}
