/**
 * What every engine verb needs besides the network list and the runtime
 * arguments (libcni's `CNIConfig`).
 *
 * @module
 */
import { type PluginExec, processExec } from "../invoke/exec_plugin.ts";
import { findPlugin } from "../invoke/find_plugin.ts";
import { DEFAULT_BIN_DIR, DEFAULT_CACHE_DIR } from "../spec/defaults.ts";

/** Options shared by the engine verbs. */
export interface EngineOptions {
  /**
   * Plugin directories, searched in order (`CNI_PATH`).
   * @default {["/opt/cni/bin"]}
   */
  binDirs?: readonly string[];
  /**
   * The cache directory; results live in `<cacheDir>/results`.
   * @default {"/var/lib/cni"}
   */
  cacheDir?: string;
  /**
   * Kills a plugin running ADD, CHECK, GC, STATUS or VERSION after this
   * many milliseconds; 0 disables the timeout.
   * @default {60000}
   */
  timeoutMs?: number;
  /**
   * The same for DEL, which is retried by runtimes and may need longer.
   * @default {60000}
   */
  delTimeoutMs?: number;
  /**
   * The environment plugins inherit, before the CNI variables are set.
   * @default {the process environment, as libcni}
   */
  env?: Readonly<Record<string, string>>;
  /** Runs plugins; tests may pass a recording double. */
  exec?: PluginExec;
}

/** {@link EngineOptions} with every default filled in. */
export interface ResolvedEngineOptions {
  /** Plugin directories. */
  binDirs: readonly string[];
  /** The cache directory. */
  cacheDir: string;
  /** Timeout of ADD, CHECK, GC, STATUS, VERSION. */
  timeoutMs: number;
  /** Timeout of DEL. */
  delTimeoutMs: number;
  /** Base environment of plugins. */
  env: Readonly<Record<string, string>>;
  /** The process runner. */
  exec: PluginExec;
  /**
   * {@link findPlugin} over `binDirs`, each type looked up once per
   * resolution: a pod's setup resolves once, and its preflight, the
   * engine's and every call share the paths found.
   */
  findPlugin(type: string): Promise<string>;
}

// Options already resolved pass through: the runtime resolves once and
// hands the result to the engine verbs.
const RESOLVED = new WeakSet<object>();

/** The default per-call timeout. */
export const DEFAULT_TIMEOUT_MS = 60_000;

/** Fills in the defaults; resolved options are returned as they are. */
export function resolveEngineOptions(
  options: EngineOptions = {},
): ResolvedEngineOptions {
  if (RESOLVED.has(options)) return options as ResolvedEngineOptions;
  const binDirs = options.binDirs ?? [DEFAULT_BIN_DIR];
  const found = new Map<string, Promise<string>>();
  const resolved: ResolvedEngineOptions = {
    binDirs,
    cacheDir: options.cacheDir ?? DEFAULT_CACHE_DIR,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    delTimeoutMs: options.delTimeoutMs ?? DEFAULT_TIMEOUT_MS,
    env: options.env ?? Deno.env.toObject(),
    exec: options.exec ?? processExec,
    findPlugin(type) {
      let path = found.get(type);
      if (!path) found.set(type, path = findPlugin(type, binDirs));
      return path;
    },
  };
  RESOLVED.add(resolved);
  return resolved;
}
