/**
 * Processes a test may have left behind: found in /proc by command line
 * (a path of the test's bed) or by the CNI_CONTAINERID a plugin was given.
 *
 * @module
 */
interface ProcInfo {
  pid: number;
  pgid: number;
  cmdline: string;
}

/**
 * Live (not zombie) processes other than this one whose command line
 * mentions one of `paths`, or whose environment says it is a plugin
 * working for one of `containerIds` (`CNI_CONTAINERID=`).
 */
async function findProcesses(
  paths: readonly string[],
  containerIds: readonly string[],
): Promise<ProcInfo[]> {
  const found: ProcInfo[] = [];
  for await (const e of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    const pid = Number(e.name);
    if (pid === Deno.pid) continue;
    try {
      const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (fields[0] === "Z" || fields[0] === "X") continue;
      const cmdline = (await Deno.readTextFile(`/proc/${pid}/cmdline`))
        .split("\0").filter(Boolean).join(" ");
      const environ = (await Deno.readTextFile(`/proc/${pid}/environ`))
        .split("\0");
      const mine = paths.some((p) => cmdline.includes(p)) ||
        containerIds.some((id) => environ.includes(`CNI_CONTAINERID=${id}`));
      if (mine) found.push({ pid, pgid: Number(fields[2]), cmdline });
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

/** `pid cmdline` of every process {@link findProcesses} finds. */
export async function leftoverProcesses(
  paths: readonly string[],
  containerIds: readonly string[],
): Promise<string[]> {
  return (await findProcesses(paths, containerIds)).map((p) =>
    `${p.pid} ${p.cmdline}`
  );
}

/** SIGKILLs what {@link leftoverProcesses} finds (fixture cleanup). */
export async function killLeftovers(
  paths: readonly string[],
  containerIds: readonly string[],
): Promise<void> {
  for (const p of await findProcesses(paths, containerIds)) {
    try {
      Deno.kill(p.pid, "SIGKILL");
    } catch {
      // Gone.
    }
  }
}
