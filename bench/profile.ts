// Summarizes a V8 .cpuprofile (from `deno run --cpu-prof`): self time per function, the
// top N, as a table. Used to read profiles of the server under the bench; taking the
// profile is left to the person running it (see docs/performance.md).

/** The parts of a .cpuprofile this reads. */
interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
  }[];
  samples: number[];
  timeDeltas: number[];
}

/** One function's self time. */
export interface SelfTime {
  name: string;
  ms: number;
  percent: number;
}

/** Self time per function (by name and source line), largest first. */
export function selfTimes(profile: CpuProfile): SelfTime[] {
  const key = new Map<number, string>();
  for (const n of profile.nodes) {
    const f = n.callFrame;
    const file = f.url ? f.url.replace(/^.*\//, "") : "";
    const where = file ? ` ${file}:${f.lineNumber + 1}` : "";
    key.set(n.id, `${f.functionName || "(anonymous)"}${where}`);
  }
  const us = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const k = key.get(profile.samples[i]) ?? "?";
    const dt = profile.timeDeltas[i] ?? 0;
    us.set(k, (us.get(k) ?? 0) + dt);
    total += dt;
  }
  return [...us].map(([name, t]) => ({ name, ms: t / 1000, percent: (t / total) * 100 }))
    .sort((a, b) => b.ms - a.ms);
}

if (import.meta.main) {
  const [file, top = "25"] = Deno.args;
  if (!file) {
    console.error("usage: deno run --allow-read bench/profile.ts FILE.cpuprofile [TOP]");
    Deno.exit(2);
  }
  const rows = selfTimes(JSON.parse(await Deno.readTextFile(file)));
  for (const r of rows.slice(0, Number(top))) {
    console.log(
      `${r.ms.toFixed(0).padStart(8)} ms ${r.percent.toFixed(1).padStart(5)}%  ${r.name}`,
    );
  }
}
