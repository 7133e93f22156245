/**
 * Reads what the stack's processes log during a chaos run for what must never
 * be there: a full phone number, a code that was sent, or a dumped workflow
 * history (a very long line). Faults make the error paths log; this is where
 * they leak if they do.
 */

export interface LogFindings {
  lines: number;
  /** Lines holding a full number of the run. */
  fullNumbers: number;
  /** Lines holding a code the run received by SMS. */
  codes: number;
  /** Lines over 4000 characters (a history or a payload dumped). */
  longLines: number;
  /** A few offending lines, the secrets blanked. */
  samples: string[];
}

const LONG = 4000;
const KEEP = 20_000;

export class LogScan {
  private readonly kept: { child: string; line: string }[] = [];
  private total = 0;

  add(child: string, line: string): void {
    this.total++;
    // The smsc simulator is the carrier: it may see numbers. Only our product's logs are judged.
    if (child === 'smsc-sim' || this.kept.length >= KEEP) return;
    this.kept.push({ child, line });
  }

  /** `numbers` and `codes`: every number the run sent to and every code it read from an SMS. */
  findings(numbers: Set<string>, codes: Set<string>): LogFindings {
    const out: LogFindings = { lines: this.total, fullNumbers: 0, codes: 0, longLines: 0, samples: [] };
    for (const { child, line } of this.kept) {
      const digits = line.match(/\+?\d{6,15}/g) ?? [];
      const hasNumber = digits.some((d) => numbers.has(d.startsWith('+') ? d : `+${d}`));
      const hasCode = (line.match(/\b\d{6}\b/g) ?? []).some((c) => codes.has(c));
      const long = line.length > LONG;
      if (hasNumber) out.fullNumbers++;
      if (hasCode) out.codes++;
      if (long) out.longLines++;
      if ((hasNumber || hasCode || long) && out.samples.length < 5)
        out.samples.push(`[${child}] ${line.slice(0, 300).replace(/\d{6,}/g, '…')}${long ? ` … (${line.length} characters)` : ''}`);
    }
    return out;
  }
}
