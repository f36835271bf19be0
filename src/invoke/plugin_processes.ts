/**
 * Finding and killing plugin processes through `/proc`, on the rare paths
 * only: a plugin past its timeout, and plugins a dead cnishim left running.
 *
 * Plugins are not put in a process group of their own: `detached` makes
 * Deno fork instead of `posix_spawn`, which costs 1–3 ms per plugin in a
 * process of 100–200 MB (serve), on every call. A plugin is instead
 * recognised by its environment (`CNI_CONTAINERID`, `CNI_IFNAME`,
 * `CNI_COMMAND`, inherited by anything it forks) and by parentage, and
 * each process is killed by pid — never by group, since a plugin's group
 * is cnishim's and maybe its runtime's.
 *
 * @module
 */

/** Options of the functions here. */
export interface ProcOptions {
  /**
   * How long to wait for the killed processes to be gone.
   * @default {2000}
   */
  waitMs?: number;
  /** The proc filesystem. @default {"/proc"} */
  procDir?: string;
}

/** Which plugin processes to match, by their environment. */
export interface PluginMatch {
  containerId: string;
  /** Only the plugins of this interface. */
  ifName?: string;
}

interface ProcessInfo {
  pid: number;
  ppid: number;
}

/**
 * SIGKILLs every process working for `containerId` (its environment has
 * `CNI_CONTAINERID=<containerId>` and `CNI_COMMAND`, as a plugin's and its
 * children's do) and waits until they are gone. Only call it while
 * holding the container's lock, so that no live operation of this
 * container can be among them. Without a readable `/proc` it does nothing.
 *
 * @returns the pids that were killed
 */
export async function reapOrphanPlugins(
  containerId: string,
  options: ProcOptions = {},
): Promise<number[]> {
  const proc = options.procDir ?? "/proc";
  const found = await killAll(
    proc,
    (all) => matching(proc, all, { containerId }),
  );
  await waitGone(proc, found, options.waitMs ?? 2000);
  return found;
}

/**
 * SIGKILLs a plugin that ran past its timeout with everything working for
 * it: its descendants, and the processes whose environment names the same
 * container, interface and command (a child that outlived the plugin is
 * no longer its descendant, yet may hold its stdout open). Without a
 * readable `/proc`, the plugin alone.
 */
export async function killPluginTree(
  pid: number,
  env: Record<string, string>,
  options: ProcOptions = {},
): Promise<void> {
  const proc = options.procDir ?? "/proc";
  const containerId = env.CNI_CONTAINERID;
  await killAll(proc, async (all) => {
    const pids = descendants(all, pid);
    pids.add(pid);
    if (containerId) {
      const same = await matching(proc, all, {
        containerId,
        ...(env.CNI_IFNAME ? { ifName: env.CNI_IFNAME } : {}),
      });
      for (const p of same) pids.add(p);
    }
    return [...pids];
  });
}

// Stops what `select` finds and scans again until nothing new turns up
// (a stopped process cannot fork, and its children keep it as parent),
// then kills them all.
async function killAll(
  proc: string,
  select: (all: ProcessInfo[]) => Promise<number[]> | number[],
): Promise<number[]> {
  const found = new Set<number>();
  for (let round = 0; round < 10; round++) {
    const all = await processes(proc);
    const fresh = (await select(all)).filter((p) =>
      !found.has(p) && p !== Deno.pid
    );
    if (fresh.length === 0) break;
    for (const p of fresh) {
      found.add(p);
      signal(p, "SIGSTOP");
    }
  }
  for (const p of found) signal(p, "SIGKILL");
  return [...found];
}

function signal(pid: number, name: Deno.Signal): void {
  try {
    Deno.kill(pid, name);
  } catch {
    // Gone meanwhile.
  }
}

async function processes(proc: string): Promise<ProcessInfo[]> {
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(proc));
  } catch {
    return [];
  }
  const all: ProcessInfo[] = [];
  for (const e of entries) {
    if (!/^\d+$/.test(e.name)) continue;
    const fields = await statFields(proc, Number(e.name));
    // Zombies can no longer act.
    if (fields && fields[0] !== "Z" && fields[0] !== "X") {
      all.push({ pid: Number(e.name), ppid: Number(fields[1]) });
    }
  }
  return all;
}

function descendants(all: ProcessInfo[], root: number): Set<number> {
  const found = new Set<number>();
  let frontier = [root];
  while (frontier.length) {
    const next = all.filter((p) =>
      frontier.includes(p.ppid) && !found.has(p.pid)
    ).map((p) => p.pid);
    for (const p of next) found.add(p);
    frontier = next;
  }
  return found;
}

async function matching(
  proc: string,
  all: ProcessInfo[],
  match: PluginMatch,
): Promise<number[]> {
  const needles = [`CNI_CONTAINERID=${match.containerId}`];
  if (match.ifName) needles.push(`CNI_IFNAME=${match.ifName}`);
  const found: number[] = [];
  for (const p of all) {
    if (p.pid === Deno.pid) continue;
    try {
      const environ = (await Deno.readTextFile(`${proc}/${p.pid}/environ`))
        .split("\0");
      if (
        needles.every((n) => environ.includes(n)) &&
        environ.some((v) => v.startsWith("CNI_COMMAND="))
      ) found.push(p.pid);
    } catch {
      // Gone, a kernel thread, or not ours to read.
    }
  }
  return found;
}

// The fields of /proc/<pid>/stat from the third on (state, ppid, …),
// counted after the parenthesised name, which may hold spaces itself.
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

async function waitGone(
  proc: string,
  pids: number[],
  waitMs: number,
): Promise<void> {
  const deadline = Date.now() + waitMs;
  let alive = pids;
  while (alive.length && Date.now() < deadline) {
    const now = new Set((await processes(proc)).map((p) => p.pid));
    alive = alive.filter((p) => now.has(p));
    if (alive.length) await pause(10);
  }
}

// AbortSignal.timeout rather than setTimeout: see exec_plugin.ts.
function pause(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const signal = AbortSignal.timeout(ms);
    signal.addEventListener("abort", () => resolve(), { once: true });
  });
}
