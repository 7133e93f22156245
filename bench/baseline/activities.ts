/** The baselines' one local activity each: submit the SMS with the project's SMPP engine. */
import type { SmscRouter } from '../../smpp/smsc';
import { messageKey, type LoginReceiptPairing } from './receipt-pairing';

export interface BaselineActivities {
  /** The least-durable send's: submit, nothing remembered. */
  submitSms(phone: string, text: string): Promise<string>;
  /** The least-durable login's: submit, then pair the message id with the workflow so its receipt is signalled there. */
  submitLoginSms(workflowId: string, phone: string, text: string): Promise<string>;
}

export function createBaselineActivities(smsc: SmscRouter, senderId: string, pairing: LoginReceiptPairing): BaselineActivities {
  const submit = (phone: string, text: string) => smsc.submitText(phone, text, { senderId, validitySeconds: 300 });
  return {
    async submitSms(phone, text) {
      return (await submit(phone, text)).messageIds[0];
    },
    async submitLoginSms(workflowId, phone, text) {
      const sent = await submit(phone, text);
      const route = smsc.route(sent.route);
      for (const id of sent.messageIds) pairing.register(messageKey(sent.route, route ? route.submitKey(id) : id), workflowId, id);
      return sent.messageIds[0];
    },
  };
}
