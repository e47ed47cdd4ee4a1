// What the bench reads about processes and the machine from Linux's /proc: CPU time and
// resident memory. Deno asks for --allow-all to read /proc/PID and /proc/cpuinfo, so
// they are read with `cat` (--allow-run=cat); starting servers is left to servers.ts.

import process from "node:process";

/** Clock ticks per second of /proc/PID/stat's utime and stime (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** Reads a file under /proc through `cat` (Deno wants --allow-all to read it directly). */
async function readProc(path: string): Promise<string> {
  const out = await new Deno.Command("cat", {
    args: [path],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).output();
  if (!out.success) throw new Error(`cannot read ${path}`);
  return new TextDecoder().decode(out.stdout);
}

function procFile(pid: number, file: "stat" | "status"): Promise<string> {
  return readProc(`/proc/${pid}/${file}`).catch(() => {
    throw new Error(`cannot read /proc/${pid}/${file} (has the process exited?)`);
  });
}

/** User plus system CPU seconds process `pid` has used so far (every thread). */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await procFile(pid, "stat");
  // The command name (field 2) is in parentheses and may hold spaces: count after it.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** Process `pid`'s resident set size (VmRSS) in KiB. */
export async function rssKiB(pid: number): Promise<number> {
  const status = await procFile(pid, "status");
  const m = status.match(/^VmRSS:\s+(\d+) kB/m);
  if (!m) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(m[1]);
}

/** User plus system CPU seconds this process has used so far. */
export function ownCpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/** This process's resident set size in KiB. */
export function ownRssKiB(): number {
  return Math.round(process.memoryUsage.rss() / 1024);
}

/** The machine, for the report: CPU model and count, memory, kernel. */
export interface Machine {
  cpu: string;
  cpus: number;
  memoryGiB: number;
  kernel: string;
  deno: string;
}

/** Describes this machine from /proc (no --allow-sys needed). */
export async function machine(): Promise<Machine> {
  const read = (path: string) => readProc(path).catch(() => "");
  const cpu = (await read("/proc/cpuinfo")).match(/^model name\s*:\s*(.+)$/m)?.[1] ?? "unknown";
  const mem = (await read("/proc/meminfo")).match(/^MemTotal:\s+(\d+) kB/m)?.[1] ?? "0";
  return {
    cpu: cpu.trim(),
    cpus: navigator.hardwareConcurrency,
    memoryGiB: Math.round(Number(mem) / 1024 / 1024),
    kernel: (await read("/proc/sys/kernel/osrelease")).trim() || "unknown",
    deno: Deno.version.deno,
  };
}
