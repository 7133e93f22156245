/**
 * The chaos run's hands on the simulator, a child process: its HTTP control
 * endpoints (POST /faults, PUT /behaviours). Reading its feeds is SimFeed's job.
 */
import type { SimFaultRequest } from '../sim/faults';
import type { Behaviour } from '../sim/smsc-simulator';

export class SimControl {
  constructor(private readonly baseUrl: string) {}

  /** Starts an SMSC-wide fault (sim/faults.ts). */
  async fault(f: SimFaultRequest): Promise<void> {
    const res = await fetch(`${this.baseUrl}/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(f) });
    if (!res.ok) throw new Error(`POST /faults ${f.kind}: HTTP ${res.status} ${await res.text()}`);
  }

  /** Scripts one destination (a number the load will send to). */
  async behaviour(to: string, mode: Behaviour): Promise<void> {
    const res = await fetch(`${this.baseUrl}/behaviours?to=${encodeURIComponent(to)}&mode=${mode}`, { method: 'PUT' });
    if (!res.ok) throw new Error(`PUT /behaviours ${mode}: HTTP ${res.status}`);
  }

  /** Bound ESME sessions, to see the worker bound again after a fault. */
  async sessions(): Promise<number> {
    const res = await fetch(`${this.baseUrl}/health`);
    const body: unknown = await res.json();
    return typeof body === 'object' && body !== null && typeof (body as { sessions?: unknown }).sessions === 'number'
      ? (body as { sessions: number }).sessions
      : 0;
  }
}
