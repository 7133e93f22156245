/** The baseline's one local activity: submit the SMS with the project's SMPP engine. */
import type { SmscRouter } from '../../smpp/smsc';

export interface BaselineActivities {
  submitSms(phone: string, text: string): Promise<string>;
}

export function createBaselineActivities(smsc: SmscRouter, senderId: string): BaselineActivities {
  return {
    async submitSms(phone, text) {
      const sent = await smsc.submitText(phone, text, { senderId, validitySeconds: 300 });
      return sent.messageIds[0];
    },
  };
}
