/**
 * Issue 15: the simulator's carrier mix (sim/carrier-mix.ts): the spec parser names the bad
 * part, and the draw is seeded, repeatable and in the proportions asked.
 */
import {
  CARRIER_MIX_EXAMPLE,
  DEFAULT_CARRIER_MIX_SEED,
  drawCarrierOutcome,
  formatCarrierMix,
  parseCarrierMix,
  type CarrierOutcome,
} from '../../sim/carrier-mix';

describe('parseCarrierMix', () => {
  test('reads the example of the issue', () => {
    expect(parseCarrierMix(CARRIER_MIX_EXAMPLE)).toEqual({ undeliv: 0.1, silent: 0.05, delayMs: { min: 1000, max: 3000 }, seed: DEFAULT_CARRIER_MIX_SEED });
  });

  test('any order, spaces, ms and single durations, a seed; missing parts are 0 or the receipt delay', () => {
    expect(parseCarrierMix(' seed=7 , delay=250ms, silent=1 ')).toEqual({ undeliv: 0, silent: 1, delayMs: { min: 250, max: 250 }, seed: 7 });
    expect(parseCarrierMix('undeliv=.5,delay=0.5-1.5s')).toEqual({ undeliv: 0.5, silent: 0, delayMs: { min: 500, max: 1500 }, seed: DEFAULT_CARRIER_MIX_SEED });
    expect(parseCarrierMix('undeliv=0')).toMatchObject({ delayMs: null });
  });

  test('written back, it reads the same', () => {
    for (const spec of [CARRIER_MIX_EXAMPLE, 'silent=0.25,seed=42', 'undeliv=1,delay=40ms']) {
      const mix = parseCarrierMix(spec);
      expect(parseCarrierMix(formatCarrierMix(mix))).toEqual(mix);
    }
  });

  test.each([
    ['', /empty/],
    ['undeliv=0.1,bounce=0.2', /unknown part "bounce=0.2": expected undeliv=, silent=, delay=, seed=/],
    ['undeliv=1.5', /"undeliv=1.5": a probability from 0 to 1/],
    ['silent=-0.1', /"silent=-0.1": a probability from 0 to 1/],
    ['silent=ten', /"silent=ten": a probability/],
    ['undeliv=', /"undeliv=" has no value/],
    ['undeliv', /"undeliv" has no value/],
    ['undeliv=0.1,undeliv=0.2', /"undeliv" is given twice/],
    ['undeliv=0.6,silent=0.5', /undeliv \+ silent is 1.1, more than 1/],
    ['delay=1-3', /"delay=1-3": a delay is a duration or a range with a unit/],
    ['delay=3-1s', /"delay=3-1s": the range goes from low to high/],
    ['delay=2h', /"delay=2h"/],
    ['delay=1-7200s', /"delay=1-7200s": at most 3600 s/],
    ['seed=1.5', /"seed=1.5": the seed is an integer/],
  ])('refuses %j, naming the bad part', (spec, message) => {
    expect(() => parseCarrierMix(spec)).toThrow(message);
  });
});

describe('drawCarrierOutcome', () => {
  const mix = parseCarrierMix('undeliv=0.10,silent=0.05,delay=1-3s,seed=3');
  const keys = Array.from({ length: 20_000 }, (_, i) => `+336${10_000_000 + i}|0`);

  test('the same mix and key draw the same; another seed draws otherwise', () => {
    const a = keys.slice(0, 500).map((k) => drawCarrierOutcome(mix, k));
    expect(keys.slice(0, 500).map((k) => drawCarrierOutcome(mix, k))).toEqual(a);
    const b = keys.slice(0, 500).map((k) => drawCarrierOutcome({ ...mix, seed: 4 }, k));
    expect(b).not.toEqual(a);
  });

  test('outcomes come in the proportions asked, delays spread over the range', () => {
    const counts: Record<CarrierOutcome, number> = { deliver: 0, undeliverable: 0, silent: 0 };
    const delays: number[] = [];
    for (const k of keys) {
      const d = drawCarrierOutcome(mix, k);
      counts[d.behaviour]++;
      delays.push(d.delayMs ?? NaN);
    }
    // 20 000 draws: a standard deviation of 0.2 points at 10 %; 1 point is 5 of them.
    expect(counts.undeliverable / keys.length).toBeCloseTo(0.1, 1.7);
    expect(counts.silent / keys.length).toBeCloseTo(0.05, 1.7);
    expect(counts.deliver / keys.length).toBeCloseTo(0.85, 1.7);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(1000);
    expect(Math.max(...delays)).toBeLessThanOrEqual(3000);
    const firstHalf = delays.filter((d) => d < 2000).length / delays.length;
    expect(firstHalf).toBeCloseTo(0.5, 1.7);
  });

  test('0 and 1 are exact: nothing or everything', () => {
    const none = parseCarrierMix('undeliv=0,silent=0');
    const all = parseCarrierMix('silent=1');
    expect(keys.slice(0, 2000).every((k) => drawCarrierOutcome(none, k).behaviour === 'deliver')).toBe(true);
    expect(keys.slice(0, 2000).every((k) => drawCarrierOutcome(all, k).behaviour === 'silent')).toBe(true);
    expect(drawCarrierOutcome(none, keys[0]).delayMs).toBeNull();
  });
});
