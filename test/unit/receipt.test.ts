import { isDeliveryReceipt, normalizeStat, outcomeOf, parseDeliveryReceipt, parseReceiptText, STAT_WORDS } from '../../smpp/receipt';

const TEXT = 'id:7f3a9c sub:001 dlvrd:001 submit date:2611211230 done date:2611211231 stat:DELIVRD err:000 text:';

describe('delivery receipts', () => {
  test('esm_class 0x04 marks a receipt; MO text is not one', () => {
    expect(isDeliveryReceipt({ esm_class: 0x04 })).toBe(true);
    expect(isDeliveryReceipt({ esm_class: 0x44 })).toBe(true);
    expect(isDeliveryReceipt({ esm_class: 0x00 })).toBe(false);
    expect(parseDeliveryReceipt({ esm_class: 0, short_message: { message: TEXT } })).toBeUndefined();
  });

  test('TLVs win over the text', () => {
    const r = parseDeliveryReceipt({ esm_class: 4, receipted_message_id: 'ABC', message_state: 5, short_message: { message: TEXT } });
    expect(r).toEqual({ messageId: 'ABC', idSource: 'tlv', stat: 'UNDELIV', err: '000', outcome: 'failed' });
  });

  test('falls back to the text, in any field order and with 12-digit dates', () => {
    const text = 'stat:REJECTD err:011 done date:261121123145 id:12345 submit date:261121123001 sub:001 dlvrd:000';
    expect(parseDeliveryReceipt({ esm_class: 4, short_message: { message: text } })).toEqual({
      messageId: '12345',
      idSource: 'text',
      stat: 'REJECTD',
      err: '011',
      outcome: 'failed',
    });
    expect(parseReceiptText(TEXT)).toEqual({ id: '7f3a9c', stat: 'DELIVRD', err: '000' });
  });

  test('reads a Buffer body and a message_payload', () => {
    expect(parseDeliveryReceipt({ esm_class: 4, short_message: Buffer.from(TEXT, 'latin1') })?.messageId).toBe('7f3a9c');
    expect(parseDeliveryReceipt({ esm_class: 4, message_payload: { message: TEXT } })?.outcome).toBe('delivered');
  });

  test('a receipt with no id at all is unusable', () => {
    expect(parseDeliveryReceipt({ esm_class: 4, short_message: { message: 'stat:DELIVRD' } })).toBeUndefined();
  });

  // Found by test/unit/fuzz-receipt.test.ts: `\s*(\S+)` read the next field as the value of an empty one.
  test('an empty field has no value: never the next field, never the same field in the message text', () => {
    expect(parseReceiptText('dlvrd:001 stat:DELIVRD text: id: submit date:2601010000 done date:2601010000 sub:001 err:000')).toEqual({
      id: undefined,
      stat: 'DELIVRD',
      err: '000',
    });
    expect(parseDeliveryReceipt({ esm_class: 4, short_message: { message: 'id: sub:001 dlvrd:001 stat:DELIVRD err:000' } })).toBeUndefined();
    expect(parseReceiptText('id:1 stat: err:000 text:stat:DELIVRD')).toEqual({ id: '1', stat: undefined, err: '000' });
  });

  // Found by test/unit/fuzz-receipt.test.ts: a NUL counted in sm_length stuck to the last field.
  test('a NUL ends a value: stat last with the C-string terminator still reads DELIVRD', () => {
    const text = 'id:7f3a9c sub:001 dlvrd:001 submit date:2611211230 done date:2611211231 err:000 stat:DELIVRD\0';
    expect(parseDeliveryReceipt({ esm_class: 4, short_message: Buffer.from(text, 'latin1') })).toMatchObject({
      messageId: '7f3a9c',
      stat: 'DELIVRD',
      outcome: 'delivered',
    });
    expect(parseReceiptText('id:\0')).toEqual({ id: undefined, stat: undefined, err: undefined });
  });

  test.each([
    ['DELIVRD', 'delivered'],
    ['UNDELIV', 'failed'],
    ['REJECTD', 'failed'],
    ['EXPIRED', 'failed'],
    ['DELETED', 'failed'],
    ['UNKNOWN', 'failed'],
    ['ACCEPTD', 'pending'],
    ['ENROUTE', 'pending'],
  ])('%s maps to %s', (stat, outcome) => {
    expect(outcomeOf(stat)).toBe(outcome);
  });

  test('esm_class as Kannel reads it: SMSC receipt 0x04, SME ack 0x08, intermediate notification 0x20', () => {
    for (const esm of [0x04, 0x08, 0x20, 0x24, 0x48]) expect(isDeliveryReceipt({ esm_class: esm })).toBe(true);
    for (const esm of [0x00, 0x10, 0x40, 0x03]) expect(isDeliveryReceipt({ esm_class: esm })).toBe(false);
  });

  test.each([
    ['DELIVERED', 'DELIVRD', 'delivered'],
    ['delivered', 'DELIVRD', 'delivered'],
    ['UNDELIVERABLE', 'UNDELIV', 'failed'],
    ['UNDELIVERED', 'UNDELIV', 'failed'],
    ['REJECTED', 'REJECTD', 'failed'],
    ['ACCEPTED', 'ACCEPTD', 'pending'],
    ['ACKED', 'ACCEPTD', 'pending'],
    ['BUFFERED', 'ENROUTE', 'pending'],
    ['2', 'DELIVRD', 'delivered'],
    ['05', 'UNDELIV', 'failed'],
    ['8', 'REJECTD', 'failed'],
    ['9', 'UNDELIV', 'failed'],
  ])('stat word %s in the text reads as %s (%s)', (word, stat, outcome) => {
    const r = parseDeliveryReceipt({ esm_class: 4, short_message: { message: `id:1 stat:${word} err:000` } });
    expect(r).toMatchObject({ stat, outcome });
    expect(normalizeStat(word)).toBe(stat);
  });

  test('message_state numbers from SMPP 5.0 (0 scheduled, 9 skipped) are read too; an unknown word stays pending, as written', () => {
    expect(parseDeliveryReceipt({ esm_class: 4, receipted_message_id: 'A', message_state: 9 })).toMatchObject({ stat: 'UNDELIV', outcome: 'failed' });
    expect(parseDeliveryReceipt({ esm_class: 4, receipted_message_id: 'A', message_state: 0 })).toMatchObject({ stat: 'ENROUTE', outcome: 'pending' });
    expect(parseDeliveryReceipt({ esm_class: 4, short_message: { message: 'id:1 stat:WEIRDO' } })).toMatchObject({ stat: 'WEIRDO', outcome: 'pending' });
  });

  test('every word in the table maps to a word outcomeOf knows, and each SMPP 3.4 word to itself', () => {
    for (const [word, stat] of Object.entries(STAT_WORDS)) {
      expect(STAT_WORDS[stat]).toBe(stat);
      expect(outcomeOf(word)).toBe(outcomeOf(stat));
    }
  });
});
