/**
 * The shim's own settings: flag > `CNISHIM_*` environment > config file
 * (iSulad daemon.json keys) > default.
 *
 * @module
 */
import {
  isLogLevel,
  LOG_LEVELS,
  type LogFormat,
  type LogLevel,
} from "../log/logger.ts";
import {
  DEFAULT_BIN_DIR,
  DEFAULT_CACHE_DIR,
  DEFAULT_CONF_DIR,
} from "../spec/defaults.ts";
import type { ParsedArgs } from "./flags.ts";
import { errorText, UsageError } from "../spec/errors.ts";
import { isJsonObject, parseJson } from "../spec/json.ts";

/** The default shim config file. */
export const DEFAULT_CONFIG_FILE = "/etc/cnishim/config.json";

/**
 * Variables plugins inherit from the shim's environment; everything else
 * is dropped so that nothing of the runtime's environment leaks into
 * plugins by accident. `PATH` matters: plugins run iptables and ip.
 */
export const PLUGIN_ENV_PASSTHROUGH: readonly string[] = [
  "PATH",
  "HOME",
  "LANG",
  "LC_ALL",
  "TZ",
  "TMPDIR",
  "XTABLES_LOCKFILE",
  "TRACEPARENT",
  "TRACESTATE",
  "BAGGAGE",
];

const DEFAULT_PATH =
  "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Resolved settings. */
export interface Settings {
  /** Plugin directories. */
  binDirs: string[];
  /** Network config directory. */
  confDir: string;
  /** Cache directory. */
  cacheDir: string;
  /** `cni` or `""`. */
  networkPlugin: "cni" | "";
  /** Use the loopback plugin. */
  loopback: boolean;
  /** Attach networks serially. */
  serial: boolean;
  /** Plugin timeout (ms, 0 = none). */
  timeoutMs: number;
  /** DEL timeout (ms). */
  delTimeoutMs: number;
  /** Log file, if any. */
  logFile: string | undefined;
  /** Log level. */
  logLevel: LogLevel;
  /** Log line format. */
  logFormat: LogFormat;
  /** The environment plugins get. */
  pluginEnv: Record<string, string>;
}

/** The settings keys: flags of the shim itself, not of one operation. */
export const KEYS = [
  "cni-bin-dir",
  "cni-conf-dir",
  "cni-cache-dir",
  "network-plugin",
  "no-loopback",
  "serial",
  "timeout",
  "del-timeout",
  "log-file",
  "log-level",
  "log-format",
] as const;

type Key = typeof KEYS[number];

/**
 * The keys of iSulad's `daemon.json` that are iSulad's own (its
 * `isulad_daemon_configs` schema): a config file holding them is read for
 * the keys cnishim knows, these are ignored. Any other unknown key is still
 * refused, so that a typo of one of cnishim's is not silently dropped.
 */
export const ISULAD_DAEMON_KEYS: ReadonlySet<string> = new Set([
  "authorization-plugin",
  "cgroup-parent",
  "container-log",
  "cpu-rt-period",
  "cpu-rt-runtime",
  "cri-runtimes",
  "cri-sandboxers",
  "default-runtime",
  "default-ulimits",
  "disable-nri",
  "enable-cri-v1",
  "enable-pod-events",
  "engine",
  "graph",
  "group",
  "hook-spec",
  "hosts",
  "image-layer-check",
  "image-opt-timeout",
  "image-server-sock-addr",
  "insecure-registries",
  "insecure-skip-verify-enforce",
  "log-driver",
  "log-opts",
  "native.umask",
  "nri-support",
  "pidfile",
  "pod-sandbox-image",
  "registry-mirrors",
  "runtimes",
  "selinux-enabled",
  "start-timeout",
  "state",
  "storage-driver",
  "storage-enable-remote-layer",
  "storage-opts",
  "systemd-cgroup",
  "tls",
  "tls-config",
  "tls-verify",
  "use-decrypted-key",
  "userns-remap",
  "websocket-server-listening-port",
]);

// iSulad's own log levels, as its daemon.json gives them ("ERROR"), in
// cnishim's terms: a daemon.json read as the settings file keeps working.
const ISULAD_LOG_LEVELS: Readonly<Record<string, LogLevel>> = {
  FATAL: "error",
  ALERT: "error",
  CRIT: "error",
  ERROR: "error",
  WARN: "warn",
  NOTICE: "notice",
  INFO: "info",
  DEBUG: "debug",
  TRACE: "debug",
};

// Keys whose "" in the config file means the default (iSulad's table).
const PATH_KEYS: readonly Key[] = [
  "cni-bin-dir",
  "cni-conf-dir",
  "cni-cache-dir",
  "log-file",
];

/** `CNISHIM_CNI_BIN_DIR` for `cni-bin-dir`. */
export function envName(key: string): string {
  return `CNISHIM_${key.toUpperCase().replaceAll("-", "_")}`;
}

/**
 * Resolves the settings from parsed flags, the environment and the config
 * file (`--config`, `CNISHIM_CONFIG`, or the default file if it exists).
 *
 * @throws {UsageError} for bad values, naming where they came from
 */
export async function resolveSettings(
  parsed: ParsedArgs,
  env: Readonly<Record<string, string>>,
): Promise<Settings> {
  const file = await readConfigFile(parsed, env);
  const pick = (key: Key) => lookup(key, parsed, env, file);
  const str = (key: Key, fallback: string): string => {
    const p = pick(key);
    if (!p) return fallback;
    if (typeof p.value !== "string") {
      throw new UsageError(`Invalid ${p.from}: expected a string`);
    }
    return p.value;
  };
  const bool = (key: Key): boolean => {
    const p = pick(key);
    if (!p) return false;
    if (typeof p.value === "boolean") return p.value;
    if (p.value === "true" || p.value === "1") return true;
    if (p.value === "false" || p.value === "0" || p.value === "") return false;
    throw new UsageError(
      `Invalid ${p.from}: expected true or false, not ${
        JSON.stringify(p.value)
      }`,
    );
  };
  const binDirs = (() => {
    const p = pick("cni-bin-dir");
    if (!p) return [DEFAULT_BIN_DIR];
    const list = Array.isArray(p.value)
      ? p.value
      : typeof p.value === "string"
      ? p.value.split(/[,:]/)
      : undefined;
    if (!list || !list.every((d) => typeof d === "string")) {
      throw new UsageError(`Invalid ${p.from}: expected directories`);
    }
    const dirs = (list as string[]).filter(Boolean);
    for (const d of dirs) {
      if (!d.startsWith("/")) {
        throw new UsageError(
          `Invalid ${p.from}: "${d}" is not an absolute path`,
        );
      }
    }
    return dirs.length ? dirs : [DEFAULT_BIN_DIR];
  })();
  const networkPlugin = str("network-plugin", "cni");
  if (networkPlugin !== "cni" && networkPlugin !== "") {
    const from = pick("network-plugin")!.from;
    throw new UsageError(
      `Invalid ${from}: network plugin "${networkPlugin}" not found (use "cni" or "")`,
    );
  }
  const rawLevel = str("log-level", "notice");
  const fromFile = pick("log-level")?.from.startsWith('"') ?? false;
  const logLevel = (fromFile && ISULAD_LOG_LEVELS[rawLevel]) || rawLevel;
  if (!isLogLevel(logLevel)) {
    throw new UsageError(
      `Invalid ${pick("log-level")!.from}: "${logLevel}" is not one of ${
        LOG_LEVELS.join(", ")
      }`,
    );
  }
  const logFormat = str("log-format", "text");
  if (logFormat !== "text" && logFormat !== "json") {
    throw new UsageError(
      `Invalid ${
        pick("log-format")!.from
      }: "${logFormat}" is not one of text, json`,
    );
  }
  const absolute = (key: Key, fallback: string) => {
    const v = str(key, fallback);
    if (!v.startsWith("/")) {
      throw new UsageError(
        `Invalid ${pick(key)!.from}: "${v}" is not an absolute path`,
      );
    }
    return v;
  };
  const logFile = str("log-file", "");
  const pluginEnv: Record<string, string> = { PATH: DEFAULT_PATH };
  for (const name of PLUGIN_ENV_PASSTHROUGH) {
    if (env[name] !== undefined) pluginEnv[name] = env[name];
  }
  return {
    binDirs,
    confDir: absolute("cni-conf-dir", DEFAULT_CONF_DIR),
    cacheDir: absolute("cni-cache-dir", DEFAULT_CACHE_DIR),
    networkPlugin,
    loopback: !bool("no-loopback"),
    serial: bool("serial"),
    timeoutMs: duration(
      str("timeout", "60s"),
      pick("timeout")?.from ?? "timeout",
    ),
    delTimeoutMs: duration(
      str("del-timeout", "60s"),
      pick("del-timeout")?.from ?? "del-timeout",
    ),
    logFile: logFile || undefined,
    logLevel,
    logFormat,
    pluginEnv,
  };
}

interface ConfigFile {
  path: string;
  data: Record<string, unknown>;
}

/** Where a setting's value comes from, when not from its built-in default. */
export interface SettingSource {
  /** The value as given (a string, boolean or list). */
  value: unknown;
  /** `--flag`, `CNISHIM_FLAG` or `"key" in FILE`. */
  from: string;
}

// flag > environment > config file; undefined means the built-in default.
function lookup(
  key: Key,
  parsed: ParsedArgs,
  env: Readonly<Record<string, string>>,
  file: ConfigFile | undefined,
): SettingSource | undefined {
  const flag = parsed.flags.get(key);
  if (flag !== undefined) return { value: flag, from: `--${key}` };
  const e = env[envName(key)];
  if (e !== undefined) return { value: e, from: envName(key) };
  if (file && Object.hasOwn(file.data, key)) {
    // iSulad's daemon.json: "" for a path means its default.
    if (file.data[key] === "" && PATH_KEYS.includes(key)) return undefined;
    return { value: file.data[key], from: `"${key}" in ${file.path}` };
  }
  return undefined;
}

/**
 * What each setting is when its flag is not given, for `--help`: the
 * environment's or the config file's value with where it comes from
 * (settings left to their built-in default are absent). The config file
 * itself is listed under `config` when `CNISHIM_CONFIG` names it.
 *
 * @throws {UsageError} when the config file cannot be read or is invalid
 */
export async function effectiveDefaults(
  parsed: ParsedArgs,
  env: Readonly<Record<string, string>>,
): Promise<Record<string, SettingSource>> {
  const file = await readConfigFile(parsed, env);
  const flagless: ParsedArgs = { flags: new Map(), positionals: [] };
  const out: Record<string, SettingSource> = {};
  if (env.CNISHIM_CONFIG !== undefined) {
    out.config = { value: env.CNISHIM_CONFIG, from: "CNISHIM_CONFIG" };
  }
  for (const key of KEYS) {
    const source = lookup(key, flagless, env, file);
    if (source) out[key] = source;
  }
  return out;
}

/** `30s`, `500ms`, `2m`, `1h`, or a bare number of seconds → milliseconds. */
export function duration(text: string, from: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) {
    throw new UsageError(
      `Invalid ${from}: "${text}" is not a duration like 30s, 500ms or 2m`,
    );
  }
  const scale = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? "s"]!;
  return Math.round(Number(m[1]) * scale);
}

async function readConfigFile(
  parsed: ParsedArgs,
  env: Readonly<Record<string, string>>,
): Promise<ConfigFile | undefined> {
  const explicit = (parsed.flags.get("config") as string | undefined) ??
    env.CNISHIM_CONFIG;
  const path = explicit ?? DEFAULT_CONFIG_FILE;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (!explicit && error instanceof Deno.errors.NotFound) return undefined;
    throw new UsageError(
      `Cannot read config file "${path}": ${errorText(error)}`,
    );
  }
  const data = parseJson(
    text,
    (why) => new UsageError(`Cannot parse config file "${path}": ${why}`),
  );
  if (!isJsonObject(data)) {
    throw new UsageError(`Cannot use config file "${path}": not a JSON object`);
  }
  const known: readonly string[] = KEYS;
  const unknown = Object.keys(data).filter((k) =>
    !known.includes(k) && !ISULAD_DAEMON_KEYS.has(k)
  );
  if (unknown.length) {
    throw new UsageError(
      `Cannot use config file "${path}": unknown keys ${
        unknown.map((k) => `"${k}"`).join(", ")
      }`,
    );
  }
  return { path, data: data as Record<string, unknown> };
}
