/**
 * The conf dir kept warm for `cnishim serve`: each file is parsed once and
 * kept by (path, mtime, size, inode; ctime too), read again only when one
 * of them changes. The dir is rescanned every 5 s (iSulad's seed) and soon
 * after a watch on it reports a file created, written, renamed or removed
 * (the events containerd misses); the dir may be removed and created again.
 * A rescan that finds no valid network keeps the last good set (iSulad),
 * so deleting every file never makes a serving node not ready.
 *
 * The scan is `loadNetworks` itself with this cache as its file reader, so
 * a warm set equals a cold scan of the same files by construction.
 *
 * A FIFO (or a device) in the dir or its parent is never watched
 * over: Deno's watcher thread opens the path of every event it reports
 * (to compare it with the watched paths), so an event on a FIFO blocks
 * that thread, the process's only one, until a writer comes, and a later
 * `Deno.watchFs` then blocks the whole process on the lock the thread
 * holds. Such a dir is left to the periodic rescan, which only `stat`s the
 * FIFO; and once one turned up while a watch was armed, no watch is armed
 * again in this process. Closing never waits for a blocked watch.
 *
 * @module
 */
import { baseName, dirName } from "../spec/posix_path.ts";
import type { NetworkConfigList } from "../spec/types.ts";
import { type LoadedNetworks, loadNetworks } from "../config/load_networks.ts";
import { irregularEntries } from "../config/conf_files.ts";
import { loadNetworkConfigList } from "../config/parse_network_config.ts";
import { type Logger, SILENT_LOGGER } from "../log/logger.ts";
import { errorText } from "../spec/errors.ts";

/** Options of {@link WarmNetworks}. */
export interface WarmNetworksOptions {
  /** The periodic rescan. @default {5000} */
  rescanMs?: number;
  /** How long a burst of watch events settles before the rescan. @default {100} */
  settleMs?: number;
  /** Where reloads and kept sets are reported. @default {silent} */
  logger?: Logger;
  /** Files considered at most. @default {200} */
  maxFiles?: number;
  /** Largest file accepted. @default {1048576} */
  maxFileSize?: number;
}

/** Counters, for operators and tests. */
export interface WarmNetworksStats {
  /** Rescans completed. */
  scans: number;
  /** Config files read and parsed (cache misses). */
  reads: number;
  /** True when the last rescan found nothing valid and the last good set was kept. */
  keptLastGood: boolean;
  /** When the last rescan ended (ms since the epoch), if one did. */
  lastScanAt?: number;
  /** How it ended: a new set, the last good set kept, or an error. */
  lastScanOutcome?: "loaded" | "kept-last-good" | "failed";
  /** Networks loaded now. */
  loaded: number;
  /** Files skipped now. */
  skipped: number;
}

interface CachedFile {
  key: string;
  outcome: { list: NetworkConfigList } | { error: unknown };
}

// A file changed this recently may change again within the clock's
// resolution with the same size: never trust the cache for it (git's
// "racily clean" rule); it is read again at the next rescan.
const RACY_MS = 2000;

/** The warm set of networks of one conf dir. */
export class WarmNetworks implements AsyncDisposable {
  /** The conf dir. */
  readonly dir: string;
  /** Counters. */
  readonly stats: WarmNetworksStats = {
    scans: 0,
    reads: 0,
    keptLastGood: false,
    loaded: 0,
    skipped: 0,
  };
  #options: WarmNetworksOptions;
  #log: Logger;
  #current: LoadedNetworks = { networks: [], skipped: [] };
  #files = new Map<string, CachedFile>();
  #scanning: Promise<void> | undefined;
  #dirty = false;
  #timer: ReturnType<typeof setInterval> | undefined;
  #settle: ReturnType<typeof setTimeout> | undefined;
  #watchers = new Map<
    string,
    { watcher: Deno.FsWatcher; ino: number | null; done: Promise<void> }
  >();
  #closed = false;
  // A FIFO turned up while a watch was armed: Deno's watcher may be stuck.
  #watcherMayBeStuck = false;
  #warnedIrregular = new Set<string>();

  /** Makes the warm set of `dir`; {@link start} loads and watches it. */
  constructor(dir: string, options: WarmNetworksOptions = {}) {
    this.dir = dir;
    this.#options = options;
    this.#log = options.logger ?? SILENT_LOGGER;
  }

  /** Loads the dir, starts watching it and the periodic rescan. */
  async start(): Promise<void> {
    await this.#ensureWatches();
    await this.rescan();
    this.#timer = setInterval(
      () => void this.#refresh(),
      this.#options.rescanMs ?? 5000,
    );
  }

  /**
   * The networks loaded now. A rescan under way is not waited for: on a
   * dir of 200 files it takes tens of milliseconds, which a pod must not
   * pay every 5 s; {@link rescan} resolves when the new set is in place.
   */
  get(): Promise<LoadedNetworks> {
    return Promise.resolve(this.#current);
  }

  /** Rescans now; resolves once a scan started after this call is done. */
  rescan(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#dirty = true;
    // The loop awaits before it can finish, so it clears #scanning after
    // this assignment, never before.
    this.#scanning ??= this.#loop();
    return this.#scanning;
  }

  /** Stops watching and rescanning. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    clearTimeout(this.#settle);
    const all = [...this.#watchers.values()];
    this.#watchers.clear();
    if (all.length && await this.#mayBeStuck()) {
      // Closing a watch while Deno's watcher thread is stuck blocks the
      // process for good (its resource takes the lock that thread holds):
      // it is left as it is, for the process's exit to end.
      this.#log.debug("leaving the conf dir watch open: it may be stuck", {
        confDir: this.dir,
      });
    } else {
      for (const w of all) w.watcher.close();
      await settledWithin(
        CLOSE_GRACE_MS,
        Promise.all(all.map((w) => w.done)),
      );
    }
    if (this.#scanning) await this.#scanning;
  }

  /** Same as {@link close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #loop(): Promise<void> {
    try {
      while (this.#dirty && !this.#closed) {
        this.#dirty = false;
        try {
          this.stats.lastScanOutcome = await this.#scanOnce();
        } catch (error) {
          this.stats.lastScanOutcome = "failed";
          this.#log.error("rescan of the conf dir failed; keeping the set", {
            confDir: this.dir,
            error: errorText(error),
          });
        }
        this.stats.lastScanAt = Date.now();
        this.stats.loaded = this.#current.networks.length;
        this.stats.skipped = this.#current.skipped.length;
      }
    } finally {
      this.#scanning = undefined;
    }
  }

  async #scanOnce(): Promise<"loaded" | "kept-last-good"> {
    const now = Date.now();
    const seen = new Set<string>();
    const loaded = await loadNetworks(this.dir, {
      ...(this.#options.maxFiles ? { maxFiles: this.#options.maxFiles } : {}),
      ...(this.#options.maxFileSize
        ? { maxFileSize: this.#options.maxFileSize }
        : {}),
      loadList: (file, info) => {
        seen.add(file);
        return this.#load(file, info, now);
      },
    });
    for (const path of this.#files.keys()) {
      if (!seen.has(path)) this.#files.delete(path);
    }
    this.stats.scans++;
    if (loaded.networks.length === 0 && this.#current.networks.length > 0) {
      if (!this.stats.keptLastGood) {
        this.#log.warn(
          "no valid network config in the conf dir; keeping the last good set",
          {
            confDir: this.dir,
            kept: this.#current.networks.map((n) => n.name),
            skipped: loaded.skipped.map((s) =>
              `${baseName(s.file)}: ${s.reason}`
            ),
          },
        );
      }
      this.stats.keptLastGood = true;
      // The networks are kept; the skipped files are today's, so that a
      // file removed since is no longer reported.
      this.#current = { ...this.#current, skipped: loaded.skipped };
      return "kept-last-good";
    }
    this.stats.keptLastGood = false;
    if (describe(loaded) !== describe(this.#current)) {
      this.#log.info("networks loaded", {
        confDir: this.dir,
        networks: loaded.networks.map((n) => n.name),
        skipped: loaded.skipped.length,
      });
    }
    this.#current = loaded;
    return "loaded";
  }

  async #load(
    file: string,
    info: Deno.FileInfo,
    now: number,
  ): Promise<NetworkConfigList> {
    const mtime = info.mtime?.getTime() ?? 0;
    const key = `${mtime}:${info.size}:${info.ino}:${info.ctime?.getTime()}`;
    let cached = this.#files.get(file);
    if (cached?.key !== key) {
      this.stats.reads++;
      let outcome: CachedFile["outcome"];
      try {
        outcome = { list: await loadNetworkConfigList(file, info) };
      } catch (error) {
        outcome = { error };
      }
      cached = { key, outcome };
      if (now - mtime >= RACY_MS) this.#files.set(file, cached);
      else this.#files.delete(file);
    }
    if ("error" in cached.outcome) throw cached.outcome.error;
    return cached.outcome.list;
  }

  // The periodic rescan, and the one after watch events have settled.
  async #refresh(): Promise<void> {
    if (this.#closed) return;
    await this.#ensureWatches();
    await this.rescan();
  }

  // Watches the dir for its files and its parent for the dir itself, each
  // (re)armed when missing or when the path now names another inode.
  // Whether Deno's watcher thread may be stuck opening a FIFO.
  async #mayBeStuck(): Promise<boolean> {
    return this.#watcherMayBeStuck ||
      (await this.#irregular()).length > 0;
  }

  async #irregular() {
    const paths = [this.dir, dirName(this.dir)];
    return (await Promise.all(paths.map(irregularEntries))).flat()
      .filter((e) => e.mayBlock);
  }

  async #ensureWatches(): Promise<void> {
    const paths = [this.dir, dirName(this.dir)];
    const irregular = await this.#irregular();
    if (irregular.length) {
      if (this.#watchers.size) this.#watcherMayBeStuck = true;
      for (const e of irregular) {
        if (this.#warnedIrregular.has(e.path)) continue;
        this.#warnedIrregular.add(e.path);
        this.#log.warn(
          "not watching the conf dir: the file watcher would block opening what is there; changes are picked up by the periodic rescan",
          { path: e.path, kind: e.kind },
        );
      }
      return;
    }
    if (this.#watcherMayBeStuck) return;
    for (const path of paths) {
      if (this.#closed) return;
      const info = await Deno.stat(path).catch(() => undefined);
      // close() may have run while stat was pending: arm nothing after it.
      if (this.#closed) return;
      const have = this.#watchers.get(path);
      if (have && info?.isDirectory && have.ino === info.ino) continue;
      if (have) {
        this.#watchers.delete(path);
        have.watcher.close();
      }
      if (!info?.isDirectory) continue;
      let watcher: Deno.FsWatcher;
      try {
        watcher = Deno.watchFs(path, { recursive: false });
      } catch (error) {
        this.#log.warn("cannot watch; relying on the periodic rescan", {
          path,
          error: errorText(error),
        });
        continue;
      }
      const done = this.#pump(path, watcher);
      this.#watchers.set(path, { watcher, ino: info.ino, done });
    }
  }

  async #pump(path: string, watcher: Deno.FsWatcher): Promise<void> {
    const isDir = path === this.dir;
    try {
      for await (const event of watcher) {
        // Reads (ours included) come as "access": never a change.
        if (event.kind === "access") continue;
        const relevant = event.paths.some((p) =>
          p === this.dir || (isDir && dirName(p) === this.dir)
        );
        if (relevant) this.#soon();
        // A removed dir's watch is dead even if a new dir reuses the inode:
        // drop it so that the refresh arms a fresh one.
        if (
          isDir && event.kind === "remove" && event.paths.includes(this.dir)
        ) {
          watcher.close();
        }
      }
    } catch (error) {
      this.#log.warn("conf dir watch ended", {
        path,
        error: errorText(error),
      });
    } finally {
      if (this.#watchers.get(path)?.watcher === watcher) {
        this.#watchers.delete(path);
      }
    }
  }

  #soon(): void {
    if (this.#closed) return;
    clearTimeout(this.#settle);
    this.#settle = setTimeout(() => {
      this.#settle = undefined;
      void this.#refresh();
    }, this.#options.settleMs ?? 100);
  }
}

// How long close() waits for the watches to end.
const CLOSE_GRACE_MS = 1000;

// Whether `promise` settled within `ms`.
async function settledWithin(
  ms: number,
  promise: Promise<unknown>,
): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise.then(() => true, () => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function describe(loaded: LoadedNetworks): string {
  return JSON.stringify([
    loaded.networks.map((n) => [n.name, n.source]),
    loaded.skipped.map((s) => [s.file, s.reason]),
    loaded.confDirMissing ?? false,
  ]);
}
