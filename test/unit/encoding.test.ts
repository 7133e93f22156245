import { concatUdh, detectEncoding, encodeText, multiPartLimit, splitSegments } from '../../smpp/encoding';
import { encodeForRoute } from '../../smpp/charset';

describe('detectEncoding', () => {
  test('plain Latin text and GSM extension characters stay GSM-7', () => {
    expect(detectEncoding('Your code: 123456')).toBe('GSM7');
    expect(detectEncoding('Price €5 [ok] {x} ~ ^ | \\')).toBe('GSM7');
    expect(detectEncoding('Çà é ñ ü Δ')).toBe('GSM7');
  });
  test('Cyrillic, CJK, emoji and curly quotes need UCS-2', () => {
    expect(detectEncoding('Ваш код: 123456')).toBe('UCS2');
    expect(detectEncoding('你的验证码是: 123456')).toBe('UCS2');
    expect(detectEncoding('code 🔐')).toBe('UCS2');
    expect(detectEncoding('it’s 123456')).toBe('UCS2');
  });
});

describe('splitSegments', () => {
  test('GSM-7: 160 in one segment, 161 in two of at most 153', () => {
    expect(splitSegments('a'.repeat(160))).toHaveLength(1);
    const two = splitSegments('a'.repeat(161));
    expect(two.map((s) => s.length)).toEqual([153, 8]);
  });
  test('GSM-7 extension characters cost two septets and are never split', () => {
    expect(splitSegments('€'.repeat(80))).toHaveLength(1);
    const segs = splitSegments('€'.repeat(81));
    expect(segs.map((s) => s.length)).toEqual([76, 5]);
  });
  test('UCS-2: 70 in one segment, 71 in two of at most 67', () => {
    expect(splitSegments('ж'.repeat(70))).toHaveLength(1);
    expect(splitSegments('ж'.repeat(71)).map((s) => s.length)).toEqual([67, 4]);
  });
  test('UCS-2 never splits a surrogate pair', () => {
    const segs = splitSegments('ж'.repeat(66) + '🔐' + 'ж'.repeat(10));
    expect(segs[0]).toBe('ж'.repeat(66));
    expect(segs.join('')).toBe('ж'.repeat(66) + '🔐' + 'ж'.repeat(10));
  });
});

test('encodeText sets data_coding explicitly: 0 for GSM-7, 8 for UCS-2', () => {
  expect(encodeText('hello')).toMatchObject({ encoding: 'GSM7', dataCoding: 0, segments: ['hello'] });
  expect(encodeText('привет')).toMatchObject({ encoding: 'UCS2', dataCoding: 8 });
});

test('concatUdh is 05 00 03 ref total seq', () => {
  expect([...concatUdh(0x1a2, 3, 2)]).toEqual([5, 0, 3, 0xa2, 3, 2]);
});

// Found by test/unit/fuzz-segments.test.ts: parts of 153 septets / 67 UCS-2 units with a 16-bit
// reference UDH (06 08 04 …, 7 octets) are 141 octets on the air, one more than an SMS holds.
test('a route with 16-bit concatenation references splits at 152 septets / 66 UCS-2 units', () => {
  expect(encodeForRoute('a'.repeat(306), 'gsm7', 16).segments.map((s) => s.length)).toEqual([152, 152, 2]);
  expect(encodeForRoute('a'.repeat(306), 'gsm7', 8).segments.map((s) => s.length)).toEqual([153, 153]);
  expect(encodeForRoute('ж'.repeat(134), 'gsm7', 16).segments.map((s) => s.length)).toEqual([66, 66, 2]);
  expect(encodeForRoute('é'.repeat(200), 'latin1', 16).segments.map((s) => s.length)).toEqual([152, 48]);
  expect(multiPartLimit('GSM7', 6)).toBe(153);
  expect(multiPartLimit('UCS2', 6)).toBe(67);
});
