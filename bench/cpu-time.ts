import fs from 'node:fs';

/**
 * CPU time by process on Linux, from /proc: what a phase cost the server, the database and the
 * load generator, and the rest of the machine (another job on a shared machine shows there).
 * Clock ticks are 100 a second on Linux x86-64 (USER_HZ, fixed by the kernel's ABI).
 */
const TICK_MS = 10;

export interface CpuSample {
  /** CPU ms of each watched process, in the order given (null where it could not be read). */
  processes: (number | null)[];
  /** CPU ms of the whole machine, all cores, steal excluded. */
  machine: number | null;
}

/** user + system CPU ms of one process, or null (gone, or not Linux). */
function processCpuMs(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces: count fields after it.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return null;
  }
}

function machineCpuMs(): number | null {
  try {
    const fields = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
    // user nice system idle iowait irq softirq: busy is all but idle and iowait.
    if (fields.length < 7) return null;
    return (fields[0] + fields[1] + fields[2] + fields[5] + fields[6]) * TICK_MS;
  } catch {
    return null;
  }
}

/** The first process whose command is one of `names` (e.g. the database server), or undefined. */
export function findProcess(names: string[]): number | undefined {
  try {
    for (const entry of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        if (names.includes(fs.readFileSync(`/proc/${entry}/comm`, 'utf8').trim())) return Number(entry);
      } catch {
        // gone meanwhile
      }
    }
  } catch {
    // not Linux
  }
  return undefined;
}

export function sampleCpu(pids: (number | undefined)[]): CpuSample {
  return { processes: pids.map(processCpuMs), machine: machineCpuMs() };
}

/** CPU ms spent between two samples, per watched process, and by everything else on the machine. */
export function cpuSpent(before: CpuSample, after: CpuSample): { processes: (number | null)[]; others: number | null } {
  const processes = before.processes.map((b, i) => {
    const a = after.processes[i];
    return b === null || a === null || a === undefined ? null : a - b;
  });
  const known = processes.reduce<number>((sum, ms) => sum + (ms ?? 0), 0);
  const others = before.machine === null || after.machine === null ? null : Math.max(0, after.machine - before.machine - known);
  return { processes, others };
}
