// Typings for the untyped `smpp` 0.5.1 package: only the surface we use.
declare module 'smpp' {
  import { EventEmitter } from 'node:events';
  import type { Server as NetServer, Socket } from 'node:net';

  export interface ShortMessage {
    message: string | Buffer;
    udh?: Buffer | Buffer[];
  }

  /** A decoded PDU: header fields plus whatever parameters and TLVs the command carries. */
  export class PDU {
    constructor(command: string, options?: Record<string, unknown>);
    /** Decodes a whole PDU; throws on a body it cannot read. */
    constructor(buffer: Buffer);
    /** Largest PDU the decoder accepts (16384). */
    static maxLength: number;
    command: string;
    command_id: number;
    command_status: number;
    sequence_number: number;
    system_id?: string;
    password?: string;
    system_type?: string;
    message_id?: string;
    source_addr?: string;
    source_addr_ton?: number;
    source_addr_npi?: number;
    destination_addr?: string;
    dest_addr_ton?: number;
    dest_addr_npi?: number;
    esm_class?: number;
    data_coding?: number;
    registered_delivery?: number;
    validity_period?: string | Date;
    short_message?: ShortMessage | Buffer | string;
    message_payload?: ShortMessage | Buffer | string;
    receipted_message_id?: string;
    message_state?: number;
    [tlv: string]: unknown;
    isResponse(): boolean;
    response(options?: Record<string, unknown>): PDU;
    toBuffer(): Buffer;
  }

  export type ResponseCallback = (pdu: PDU) => void;

  export class Session extends EventEmitter {
    constructor(options: Record<string, unknown>);
    socket: Socket;
    server?: Server;
    send(pdu: PDU, responseCallback?: ResponseCallback, sendCallback?: ResponseCallback): boolean;
    close(callback?: () => void): void;
    destroy(callback?: () => void): void;
    pause(): void;
    resume(): void;
    bind_transceiver(options: Record<string, unknown>, cb?: ResponseCallback): boolean;
    bind_transmitter(options: Record<string, unknown>, cb?: ResponseCallback): boolean;
    bind_receiver(options: Record<string, unknown>, cb?: ResponseCallback): boolean;
    submit_sm(options: Record<string, unknown>, cb?: ResponseCallback): boolean;
    deliver_sm(options: Record<string, unknown>, cb?: ResponseCallback): boolean;
    enquire_link(options?: Record<string, unknown>, cb?: ResponseCallback): boolean;
    unbind(options?: Record<string, unknown>, cb?: ResponseCallback): boolean;
  }

  export class Server extends NetServer {
    sessions: Session[];
  }

  export function createServer(options: Record<string, unknown>, listener?: (session: Session) => void): Server;
  export function createServer(listener: (session: Session) => void): Server;
  export function connect(options: Record<string, unknown>, listener?: () => void): Session;

  export const errors: Record<string, number>;
  export const ESME_ROK: number;
  export const ESME_RTHROTTLED: number;
  export const ESME_RBINDFAIL: number;
  export const ESME_RINVPASWD: number;
  export const ESME_RSYSERR: number;
  export const ESME_RX_T_APPN: number;
}
