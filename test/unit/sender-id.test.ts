/**
 * Issue 14: one rule for sender ids. The profile check, OTP_SENDER_ID and the SMPP engine's
 * addressing all come from contract/sender-id.ts; a number of 9–15 digits used to pass the
 * check and go out as an alphanumeric sender (TON 5), which SMSCs cap at 11 characters.
 */
import { SENDER_ID_RULE, senderAddress, senderKind } from '../../contract/sender-id';
import { loadConfig, ConfigError } from '../../config/config';
import { PRESETS, PolicyError, validateProfile } from '../../policy/profile';

const ENV = { TEMPORAL_ADDRESS: '127.0.0.1:7233' };

test.each([
  ['+33612345678', 'international', { addr: '33612345678', ton: 1, npi: 1 }],
  ['33612345678', 'longNumber', { addr: '33612345678', ton: 1, npi: 1 }],
  ['123456789012345', 'longNumber', { addr: '123456789012345', ton: 1, npi: 1 }],
  ['36111', 'shortCode', { addr: '36111', ton: 3, npi: 0 }],
  ['12345678', 'shortCode', { addr: '12345678', ton: 3, npi: 0 }],
  ['MyBank', 'alphanumeric', { addr: 'MyBank', ton: 5, npi: 0 }],
  ['My Bank 24', 'alphanumeric', { addr: 'My Bank 24', ton: 5, npi: 0 }],
])('%s is a %s sender, addressed %o', (id, kind, address) => {
  expect(senderKind(id)).toBe(kind);
  expect(senderAddress(id)).toEqual(address);
});

test.each(['', '12', '1234567890123456', '+0612345678', '+12345', 'ABCDEFGHIJKL', '---', '. _', 'Bank\u202e', 'Bänk'])(
  '"%s" is no sender id: refused by the engine, the profile and OTP_SENDER_ID alike',
  (id) => {
    expect(senderKind(id)).toBeUndefined();
    expect(() => senderAddress(id)).toThrow(SENDER_ID_RULE);
    if (id !== '') expect(() => loadConfig({ ...ENV, OTP_SENDER_ID: id }, 'worker')).toThrow(ConfigError);
    expect(() => validateProfile('login', { ...PRESETS.login, senderId: id })).toThrow(PolicyError);
  },
);

test('every accepted id is accepted everywhere', () => {
  for (const id of ['+33612345678', '33612345678', '36111', 'MyBank']) {
    expect(loadConfig({ ...ENV, OTP_SENDER_ID: id }, 'worker').smsc.senderId).toBe(id);
    expect(() => validateProfile('login', { ...PRESETS.login, senderId: id })).not.toThrow();
  }
});
