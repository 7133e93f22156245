/**
 * CPU and memory of the stack's processes, from /proc, sampled every second.
 * CPU is utime+stime over wall time, as % of one core; memory is VmRSS.
 * "machine" is every process on the host (/proc/stat busy time; memory in use
 * from /proc/meminfo): what it has beyond the stack is other load on a shared machine.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { ResourceFigures } from './types';

interface Sample {
  at: number;
  cpuPct: number;
  rssMB: number;
}

function clockTicks(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

/** utime+stime in ticks, or null when the process is gone. */
function cpuTicks(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces; fields are counted after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return null;
  }
}

/** Busy ticks of all CPUs together, from /proc/stat. */
export function machineTicks(): number | null {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: busy = all but idle and iowait.
    return f.slice(0, 8).reduce((a, b) => a + b, 0) - f[3] - (f[4] ?? 0);
  } catch {
    return null;
  }
}

function machineUsedMB(): number | null {
  try {
    const m = readFileSync('/proc/meminfo', 'utf8');
    const total = /^MemTotal:\s+(\d+)/m.exec(m)?.[1];
    const avail = /^MemAvailable:\s+(\d+)/m.exec(m)?.[1];
    return total && avail ? (Number(total) - Number(avail)) / 1024 : null;
  } catch {
    return null;
  }
}

const MACHINE = -1;

function rssMB(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** CPU the whole machine uses over `ms`, in % of one core; null when /proc/stat is unreadable. */
export async function machineCpu(ms = 2000): Promise<number | null> {
  const a = machineTicks();
  const t = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const b = machineTicks();
  if (a === null || b === null) return null;
  return Math.round((((b - a) / clockTicks()) * 1000 * 100) / (performance.now() - t));
}

export class ProcSampler {
  private readonly ticks = clockTicks();
  private readonly pids = new Map<string, number>();
  private readonly last = new Map<string, { at: number; ticks: number }>();
  private readonly samples = new Map<string, Sample[]>();
  private timer?: NodeJS.Timeout;

  watch(label: string, pid: number | undefined): void {
    if (pid === undefined) return;
    this.pids.set(label, pid);
    const t = cpuTicks(pid);
    if (t !== null) this.last.set(label, { at: performance.now(), ticks: t });
  }

  start(periodMs = 1000): void {
    this.timer = setInterval(() => this.sample(), periodMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private sample(): void {
    const now = performance.now();
    const wall = Date.now();
    for (const [label, pid] of [...this.pids, ['machine', MACHINE] as const]) {
      const t = pid === MACHINE ? machineTicks() : cpuTicks(pid);
      const rss = pid === MACHINE ? machineUsedMB() : rssMB(pid);
      const prev = this.last.get(label);
      if (t === null || rss === null) continue;
      this.last.set(label, { at: now, ticks: t });
      if (!prev || now <= prev.at) continue;
      const cpuPct = (((t - prev.ticks) / this.ticks) * 1000 * 100) / (now - prev.at);
      const list = this.samples.get(label) ?? [];
      list.push({ at: wall, cpuPct, rssMB: rss });
      this.samples.set(label, list);
    }
  }

  /** Highest CPU % of the process over its last `n` samples; undefined when not sampled. */
  recentCpu(label: string, n: number): number | undefined {
    const list = this.samples.get(label);
    return list?.length ? Math.max(...list.slice(-n).map((s) => s.cpuPct)) : undefined;
  }

  /** Mean and peak per process over [from, to] (ms epoch). */
  figures(from: number, to: number): Record<string, ResourceFigures> {
    const out: Record<string, ResourceFigures> = {};
    for (const [label, list] of this.samples) {
      const inRange = list.filter((s) => s.at >= from && s.at <= to + 1000);
      if (!inRange.length) continue;
      const r1 = (v: number) => Math.round(v * 10) / 10;
      out[label] = {
        cpuMeanPct: r1(inRange.reduce((a, s) => a + s.cpuPct, 0) / inRange.length),
        cpuPeakPct: r1(Math.max(...inRange.map((s) => s.cpuPct))),
        rssMeanMB: r1(inRange.reduce((a, s) => a + s.rssMB, 0) / inRange.length),
        rssPeakMB: r1(Math.max(...inRange.map((s) => s.rssMB))),
        samples: inRange.length,
      };
    }
    return out;
  }
}
