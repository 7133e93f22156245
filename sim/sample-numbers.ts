/**
 * Mobile numbers of several countries that libphonenumber accepts as valid, for
 * load generators (the bench, the metrics recorder): traffic spread over
 * calling codes, as a dashboard by country needs. One list, both import it.
 */

/** A national mobile range: the E.164 prefix, how many digits follow, and its share of traffic. */
export interface MobileRange {
  prefix: string;
  digits: number;
  weight: number;
}

/** France, the UK, Germany, Spain, Brazil (São Paulo mobiles start 119). */
export const MOBILE_RANGES: readonly MobileRange[] = [
  { prefix: '+336', digits: 8, weight: 5 },
  { prefix: '+4479', digits: 8, weight: 3 },
  { prefix: '+49151', digits: 8, weight: 2 },
  { prefix: '+346', digits: 8, weight: 2 },
  { prefix: '+55119', digits: 8, weight: 1 },
];

/** The range a uniform `r` in [0, 1) picks, by weight. */
export function rangeAt(r: number): MobileRange {
  let left = r * MOBILE_RANGES.reduce((a, c) => a + c.weight, 0);
  return MOBILE_RANGES.find((x) => (left -= x.weight) < 0) ?? MOBILE_RANGES[0];
}

/** The `n`-th number of a range (distinct for distinct n below 10^digits). */
export function numberInRange(range: MobileRange, n: number): string {
  return range.prefix + String(n % 10 ** range.digits).padStart(range.digits, '0');
}

/** A random number of a random range, weighted. */
export function randomMobileNumber(): string {
  const range = rangeAt(Math.random());
  return numberInRange(range, Math.floor(Math.random() * 10 ** range.digits));
}
