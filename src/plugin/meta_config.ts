// Pure: no Deno API.
/**
 * The meta plugin's own config: Dockin CNI's keys with Dockin's defaults,
 * so an existing `00-dockin-cni.conf` works unchanged, plus cnishim's
 * optional `cacheDir`, `backendTimeoutMs`, `pluginTimeoutMs` and `ipamType`.
 *
 * @module
 */
import { CNI_ERROR_CODES, ConfigError, errorText } from "../spec/errors.ts";
import type { JsonObject } from "../spec/types.ts";
import { validatePluginType } from "../spec/identifiers.ts";
import type { LogLevel } from "../log/logger.ts";

/** Dockin's default directory of the per-network configs. */
export const DEFAULT_META_CONF_DIR = "/etc/cni/dockin/net.d";
/** Dockin's default plugin directory. */
export const DEFAULT_META_BIN_DIR = "/opt/cni/bin";
/** Where the meta plugin keeps its records and the delegates' libcni cache. */
export const DEFAULT_META_CACHE_DIR = "/var/lib/cni/cnishim-multinet";
/** Dockin's HTTP client timeout. */
export const DEFAULT_BACKEND_TIMEOUT_MS = 5000;
/**
 * The IPAM the delegates get when `ipamType` is not set: the name installed
 * beside the meta plugin. A Dockin node has `dockin-ipam` and nothing else
 * (no `static`), a cnishim node links `cnishim-static` with
 * `cnishim-multinet`; both names are cnishim's static IPAM, which answers
 * as the reference `static` does (tests/plugin/static_ipam_diff_test.ts).
 */
export const DEFAULT_IPAM_TYPES: Readonly<Record<string, string>> = {
  "dockin-cni": "dockin-ipam",
  "cnishim-multinet": "cnishim-static",
};

/** The parsed meta config. */
export interface MetaConfig {
  /** The config's `cniVersion` ("" when absent). */
  cniVersion: string;
  /** The network name. */
  name: string;
  /** Directory of the per-network configs. */
  confDir: string;
  /** First plugin directory of the delegates (then `CNI_PATH`). */
  binDir: string;
  /** Log file; stderr when absent. */
  logFile: string | undefined;
  /** Log level. */
  logLevel: LogLevel;
  /** The backend URL ("" when absent: ADD and STATUS fail, DEL works from records). */
  backend: string;
  /** Records and the delegates' libcni cache. */
  cacheDir: string;
  /** Timeout of one backend request. */
  backendTimeoutMs: number;
  /** Timeout of one delegate plugin call; `undefined` = the engine's default. */
  pluginTimeoutMs: number | undefined;
  /** The delegates' `ipam.type`. */
  ipamType: string;
  /** What the config asked for and got a fallback instead: logged once. */
  warnings: string[];
}

// Dockin's logger accepts `verbose` for info and `panic` as the quietest;
// `info` (its documented default, which it rejects) and `warn` are ours.
const LEVELS: Record<string, LogLevel> = {
  debug: "debug",
  info: "info",
  verbose: "info",
  warn: "warn",
  error: "error",
  panic: "error",
};

/**
 * Reads the meta plugin's keys from its config.
 *
 * @example Usage
 * ```ts
 * import { parseMetaConfig } from "./meta_config.ts";
 * import { equal } from "node:assert/strict";
 * const config = parseMetaConfig({
 *   cniVersion: "0.3.1", name: "dockin", type: "dockin-cni",
 *   backend: "http://127.0.0.1:10002/rmController/getPodMultiNetwork",
 * });
 * equal(config.confDir, "/etc/cni/dockin/net.d");
 * equal(config.backendTimeoutMs, 5000);
 * equal(config.ipamType, "dockin-ipam");
 * ```
 * @throws {ConfigError} code 7 naming the field
 */
export function parseMetaConfig(raw: JsonObject): MetaConfig {
  const fail = (field: string, why: string): never => {
    throw new ConfigError(
      CNI_ERROR_CODES.invalidNetworkConfig,
      `Invalid ${raw.type} config: ${why}`,
      { field },
    );
  };
  const str = (field: string): string | undefined => {
    const v = raw[field];
    if (v === undefined || v === null || v === "") return undefined;
    if (typeof v !== "string") {
      return fail(field, `"${field}" must be a string, not ${typeof v}`);
    }
    return v;
  };
  const dir = (field: string, fallback: string): string => {
    const v = str(field) ?? fallback;
    if (!v.startsWith("/") || v.includes("\0")) {
      fail(
        field,
        `"${field}" must be an absolute path, got ${JSON.stringify(v)}`,
      );
    }
    return v;
  };
  const ms = (field: string): number | undefined => {
    const v = raw[field];
    if (v === undefined || v === null) return undefined;
    if (
      typeof v !== "number" || !Number.isInteger(v) || v <= 0 || v > 3_600_000
    ) {
      return fail(
        field,
        `"${field}" must be a whole number of milliseconds between 1 and 3600000, got ${
          JSON.stringify(v)
        }`,
      );
    }
    return v;
  };
  const backend = str("backend") ?? "";
  if (backend) {
    let url: URL | undefined;
    try {
      url = new URL(backend);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
      fail(
        "backend",
        `"backend" must be an http(s) URL, got ${JSON.stringify(backend)}`,
      );
    }
  }
  const warnings: string[] = [];
  const levelName = str("logLevel") ?? "info";
  let logLevel = LEVELS[levelName.toLowerCase()];
  if (logLevel === undefined) {
    // Dockin keeps logging on an unknown level; failing the pod for it
    // would turn a cosmetic typo into an outage.
    logLevel = "info";
    warnings.push(
      `unknown "logLevel" ${
        JSON.stringify(levelName)
      }: logging at info (known: ${Object.keys(LEVELS).join(", ")})`,
    );
  }
  const ipamType = str("ipamType") ??
    DEFAULT_IPAM_TYPES[String(raw.type)] ?? DEFAULT_IPAM_TYPES["dockin-cni"]!;
  try {
    validatePluginType(ipamType);
  } catch (error) {
    fail("ipamType", errorText(error));
  }
  const logFile = str("logFile");
  if (logFile !== undefined && !logFile.startsWith("/")) {
    fail(
      "logFile",
      `"logFile" must be an absolute path, got ${JSON.stringify(logFile)}`,
    );
  }
  return {
    cniVersion: typeof raw.cniVersion === "string" ? raw.cniVersion : "",
    name: String(raw.name ?? ""),
    confDir: dir("confDir", DEFAULT_META_CONF_DIR),
    binDir: dir("binDir", DEFAULT_META_BIN_DIR),
    logFile,
    logLevel,
    backend,
    cacheDir: dir("cacheDir", DEFAULT_META_CACHE_DIR),
    backendTimeoutMs: ms("backendTimeoutMs") ?? DEFAULT_BACKEND_TIMEOUT_MS,
    pluginTimeoutMs: ms("pluginTimeoutMs"),
    ipamType,
    warnings,
  };
}
