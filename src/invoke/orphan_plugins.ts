/**
 * Plugins a dead cnishim left running. Plugins run in their own process
 * group (so a timeout kills their children too), which also means they
 * survive a SIGKILL of cnishim: an orphaned ADD could go on creating
 * state after the DEL that was meant to undo it. Before acting on a
 * container whose previous operation died midway, the runtime kills what
 * is left of it.
 *
 * @module
 */

/** Options of {@link reapOrphanPlugins}. */
export interface ReapOptions {
  /**
   * How long to wait for the killed processes to be gone.
   * @default {2000}
   */
  waitMs?: number;
  /** The proc filesystem. @default {"/proc"} */
  procDir?: string;
}

interface Found {
  pid: number;
  pgid: number;
}

/**
 * SIGKILLs every process working for `containerId` — a plugin (its
 * environment has `CNI_CONTAINERID=<containerId>` and `CNI_COMMAND`) and
 * its children, by process group — and waits until they are gone. Only
 * call it while holding the container's lock, so no live operation of
 * this container can be among them. Without a readable `/proc` it does
 * nothing.
 *
 * @returns the pids that were killed
 */
export async function reapOrphanPlugins(
  containerId: string,
  options: ReapOptions = {},
): Promise<number[]> {
  const proc = options.procDir ?? "/proc";
  const found = await findPlugins(proc, containerId);
  if (found.length === 0) return [];
  const ownGroup = await groupOf(proc, Deno.pid);
  for (const p of found) {
    // Never our own group (a plugin that did not get a group of its own).
    const target = p.pgid > 1 && p.pgid !== ownGroup ? -p.pgid : p.pid;
    for (const id of new Set([target, p.pid])) {
      try {
        Deno.kill(id, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
  }
  const deadline = Date.now() + (options.waitMs ?? 2000);
  let alive = found;
  while (alive.length && Date.now() < deadline) {
    const still: Found[] = [];
    for (const p of alive) {
      if (await isAlive(proc, p.pid)) still.push(p);
    }
    alive = still;
    if (alive.length) await pause(10);
  }
  return found.map((p) => p.pid);
}

async function findPlugins(
  proc: string,
  containerId: string,
): Promise<Found[]> {
  const needle = `CNI_CONTAINERID=${containerId}`;
  const found: Found[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(proc));
  } catch {
    return [];
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e.name)) continue;
    const pid = Number(e.name);
    if (pid === Deno.pid) continue;
    try {
      const environ = (await Deno.readTextFile(`${proc}/${pid}/environ`))
        .split("\0");
      if (!environ.includes(needle)) continue;
      if (!environ.some((v) => v.startsWith("CNI_COMMAND="))) continue;
      const pgid = await groupOf(proc, pid);
      if (pgid !== undefined) found.push({ pid, pgid });
    } catch {
      // Gone, a kernel thread, or not ours to read.
    }
  }
  return found;
}

// Field 5 of /proc/<pid>/stat, counted after the parenthesised name (which
// may itself hold spaces and parentheses).
async function statFields(
  proc: string,
  pid: number,
): Promise<string[] | undefined> {
  try {
    const stat = await Deno.readTextFile(`${proc}/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

async function groupOf(proc: string, pid: number): Promise<number | undefined> {
  const fields = await statFields(proc, pid);
  return fields ? Number(fields[2]) : undefined;
}

// A zombie is as good as gone: it can no longer act.
async function isAlive(proc: string, pid: number): Promise<boolean> {
  const state = (await statFields(proc, pid))?.[0];
  return state !== undefined && state !== "Z" && state !== "X";
}

// AbortSignal.timeout rather than setTimeout: see exec_plugin.ts.
function pause(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const signal = AbortSignal.timeout(ms);
    signal.addEventListener("abort", () => resolve(), { once: true });
  });
}
