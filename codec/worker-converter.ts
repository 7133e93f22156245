/**
 * The workers' data converter: the deployment's payload encryption, then the
 * codec that opens sealed codes (worker only: it needs the code and seal keys).
 */
import type { DataConverter } from '@temporalio/common';
import { CodeKeyring, SealOpener } from '../activities/code';
import type { OtpConfig } from '../config/config';
import { AesGcmPayloadCodec } from './payload-codec';
import { CarriedStateCodec } from './carried-state-codec';
import { SealedCodeCodec } from './sealed-code-codec';

export function workerDataConverter(config: OtpConfig): DataConverter {
  return {
    // Encode runs first to last, decode last to first: decrypt, check carried state's MAC, then open sealed codes.
    payloadCodecs: [
      new SealedCodeCodec(new SealOpener(config.keys.sealPrivate), new CodeKeyring(config.keys.code)),
      new CarriedStateCodec(new CodeKeyring(config.keys.code)),
      // What the workers cannot open is refused like a plain payload, never a failed workflow task.
      new AesGcmPayloadCodec(config.keys.payload, { unreadable: 'refuse' }),
    ],
    failureConverterPath: require.resolve('./failure-converter'),
  };
}
