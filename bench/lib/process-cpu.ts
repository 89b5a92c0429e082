// Reads the operating system's CPU accounting (Linux /proc) for the workerd processes that Miniflare started, and
// describes the machine. Read-only: never signals or changes a process.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";

export interface Machine {
  cores: number;
  cpuModel: string;
  node: string;
  clockTicksPerSecond: number;
  /** 1-minute load average when the bench started: above the core count, other work competed for the CPU. */
  loadAverageAtStart: number;
}

export function describeMachine(): Machine {
  return {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? "unknown",
    node: process.version,
    clockTicksPerSecond: clockTicksPerSecond(),
    loadAverageAtStart: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}

let ticksPerSecond: number | undefined;
function clockTicksPerSecond(): number {
  ticksPerSecond ??= Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  return ticksPerSecond;
}

interface ProcStat {
  pid: number;
  command: string;
  parentPid: number;
  /** utime + stime of all the process's threads, in clock ticks. */
  cpuTicks: number;
}

function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined; // the process ended between listing and reading
  }
  // Field 2 is "(comm)" and may contain spaces; the fields after the last ")" are fixed (proc(5)).
  const close = text.lastIndexOf(")");
  const command = text.slice(text.indexOf("(") + 1, close);
  const fields = text.slice(close + 2).split(" ");
  return { pid, command, parentPid: Number(fields[1]), cpuTicks: Number(fields[11]) + Number(fields[12]) };
}

/** Every workerd process descended from `rootPid` (Miniflare spawns workerd as a child of the bench process). */
export function workerdProcessIds(rootPid = process.pid): number[] {
  const stats = readdirSync("/proc")
    .filter((name) => /^[0-9]+$/.test(name))
    .map((name) => readStat(Number(name)))
    .filter((stat): stat is ProcStat => stat !== undefined);
  const children = new Map<number, ProcStat[]>();
  for (const stat of stats) children.set(stat.parentPid, [...(children.get(stat.parentPid) ?? []), stat]);
  const found: number[] = [];
  const pending = [rootPid];
  while (pending.length > 0) {
    for (const child of children.get(pending.pop()!) ?? []) {
      if (child.command.startsWith("workerd")) found.push(child.pid);
      pending.push(child.pid);
    }
  }
  return found;
}

/** Summed CPU seconds (user + system) of the given processes so far. */
export function cpuSecondsOf(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) ticks += readStat(pid)?.cpuTicks ?? 0;
  return ticks / clockTicksPerSecond();
}
