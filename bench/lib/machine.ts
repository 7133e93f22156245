/** The machine a run measured on: CPUs, memory, load, Node, the Temporal CLI. Shared by the bench and the chaos run. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg, release, totalmem, type } from 'node:os';
import { temporalCliPath } from '../../dev/temporal-server';
import type { MachineInfo } from './types';

export function machineInfo(): MachineInfo {
  let cpuModel = 'unknown';
  try {
    cpuModel = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpuModel;
  } catch {
    // not Linux
  }
  let temporal = 'external server';
  try {
    temporal = execFileSync(temporalCliPath(), ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    // no CLI: the server is external
  }
  return {
    nproc: availableParallelism(),
    cpuModel,
    memoryGB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    loadAverage: loadavg(),
    node: process.version,
    temporal,
    os: `${type()} ${release()}`,
  };
}
