/**
 * cnishim as a container runtime's one CNI plugin (`"type": "cnishim"`
 * in the runtime's first conflist): the third front end beside the command
 * line and `cnishim serve`, on the same pod runtime (`setup`, `remove`,
 * `check`, `status`, `gc`), cache and locks. The runtime's pod is
 * `CNI_CONTAINERID`/`CNI_NETNS`/`CNI_IFNAME`, `CNI_ARGS` (passed on to the
 * inner networks as they are, as libcni would) and `runtimeConfig` (handed
 * on as capability args; the pod annotations pick extra networks exactly
 * as `cnishim add --annotations` does). The plugin keys are settings, over
 * the settings file, as flags are for the command line.
 *
 * Thick mode (`socket`): the call goes to `cnishim serve` as one `cni`
 * request and its answer is printed as is; when no server takes it (no
 * socket, refused, stopping) it runs here, on the same cache and locks,
 * with one warning line in the log.
 *
 * @module
 */
import {
  AggregateCniError,
  CNI_ERROR_CODES,
  CniError,
  toCniError,
  UsageError,
} from "../spec/errors.ts";
import type { CniResult, GcAttachment, JsonObject } from "../spec/types.ts";
import { isJsonObject } from "../spec/json.ts";
import { createLogger, type Logger } from "../log/logger.ts";
import { convertResult } from "../result/convert_result.ts";
import { parseResult } from "../result/parse_result.ts";
import { resultIps } from "../result/result_ips.ts";
import type { LoadedNetworks } from "../config/load_networks.ts";
import type { PluginExec } from "../invoke/exec_plugin.ts";
import { setup } from "../runtime/setup.ts";
import { remove } from "../runtime/remove.ts";
import { check } from "../runtime/check.ts";
import { status } from "../runtime/status.ts";
import { gc } from "../runtime/gc.ts";
import { readPod } from "../runtime/pod_record.ts";
import { parseCniArgs } from "../runtime/cni_args.ts";
import type { PodInputs } from "../runtime/pod_inputs.ts";
import type { RuntimeOptions } from "../runtime/runtime_options.ts";
import type { ParsedArgs } from "./flags.ts";
import { resolveSettings, type Settings } from "./settings.ts";

/**
 * Its own cache tree: the runtime's libcni cache is `/var/lib/cni/results`
 * (containerd 1.6 cannot move it), and cnishim's entries must never
 * collide with the runtime's own entry of the `cnishim` network.
 */
export const FRONT_END_CACHE_DIR = "/var/lib/cni/cnishim";

/** The plugin keys, each to the setting (long flag) it overrides. */
export const FRONT_END_KEYS: Readonly<Record<string, string>> = {
  confDir: "cni-conf-dir",
  binDir: "cni-bin-dir",
  cacheDir: "cni-cache-dir",
  socket: "socket",
  serial: "serial",
  timeout: "timeout",
  delTimeout: "del-timeout",
  logFile: "log-file",
  logLevel: "log-level",
  config: "config",
};

// What the spec and libcni put in every plugin's config besides its own keys.
const PROTOCOL_KEYS: readonly string[] = [
  "cniVersion",
  "name",
  "type",
  "capabilities",
  "runtimeConfig",
  "prevResult",
  "args",
  "cni.dev/valid-attachments",
  "cni.dev/attachments",
];

// runtimeConfig keys that are typed pod inputs; the rest pass on as they are.
const ANNOTATIONS = "io.kubernetes.cri.pod-annotations";
const TYPED_CAPABILITIES: readonly string[] = [
  "portMappings",
  "bandwidth",
  "dns",
  "ipRanges",
  "mac",
  "ips",
  "cgroupPath",
];

/** One call, after skel's checks (the plugin layer's `PluginCall`). */
export interface FrontEndCall {
  /** `CNI_COMMAND` (not VERSION: answered before this). */
  readonly command: string;
  /** `CNI_CONTAINERID`. */
  readonly containerId: string;
  /** `CNI_NETNS`. */
  readonly netns: string;
  /** `CNI_IFNAME`. */
  readonly ifName: string;
  /** `CNI_ARGS`, raw. */
  readonly args: string;
  /** `CNI_PATH`, raw. */
  readonly path: string;
  /** The decoded stdin. */
  readonly config: JsonObject;
  /** The config's `cniVersion`, "" when absent. */
  readonly cniVersion: string;
  /** The process environment. */
  readonly env: Readonly<Record<string, string>>;
}

/**
 * What a call printed: a result (or nothing) for the plugin layer to
 * print, or a server's answer, printed as is.
 */
export type FrontEndOutput =
  | { result?: CniResult }
  | { stdout: string; exitCode: number };

/** Where the call runs: in its own process, or inside `cnishim serve`. */
export interface FrontEndHost {
  /**
   * Set inside `cnishim serve`: the server's own settings, its warm
   * networks and its plugin runner; the call is never forwarded.
   */
  server?: {
    /** The server's settings. */
    settings: Settings;
    /** The server's runtime options (warm networks, timed exec). */
    runtime: RuntimeOptions & {
      networks?: () => Promise<LoadedNetworks>;
      exec?: PluginExec;
    };
    /** The socket the server listens on. */
    socket: string;
    /** The server's log. */
    logger: Logger;
  };
  /**
   * Sends the call to `cnishim serve` on `socket`: the server's answer, or
   * `undefined` when no server took it (the reason for the log).
   */
  forward?: (
    socket: string,
    env: Readonly<Record<string, string>>,
    stdin: string,
  ) => Promise<{ stdout: string; exitCode: number } | { refused: string }>;
}

/**
 * Set by the forwarder that execs cnishim when it did not get a thick
 * call served: the socket it tried, and why it was not served there.
 */
export const FORWARDER_SOCKET_VARIABLE = "CNISHIM_FORWARDER_SOCKET";
/** See {@link FORWARDER_SOCKET_VARIABLE}. */
export const FORWARDER_REFUSED_VARIABLE = "CNISHIM_FORWARDER_REFUSED";

/** The front end's settings, from the plugin keys over the settings file. */
export interface FrontEndSettings {
  /** The shim's settings. */
  settings: Settings;
  /** `socket`, when thick. */
  socket?: string;
}

/**
 * Checks the plugin keys (code 7 naming every unknown one) and resolves
 * the settings: each key overrides the settings file, as a flag does.
 *
 * @throws {CniError} code 7 naming the key or the settings file
 */
export async function frontEndSettings(
  config: JsonObject,
  env: Readonly<Record<string, string>>,
): Promise<FrontEndSettings> {
  const flags = pluginFlags(config);
  const parsed: ParsedArgs = { flags, positionals: [] };
  let settings: Settings;
  try {
    settings = await resolveSettings(parsed, env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    // The setting's name is the flag's; the plugin config spells it its way.
    let message = error.message;
    for (const [key, flag] of Object.entries(FRONT_END_KEYS)) {
      message = message.replace(
        `--${flag}`,
        `"${key}" in the cnishim plugin config`,
      );
    }
    throw new CniError(CNI_ERROR_CODES.invalidNetworkConfig, message);
  }
  const socket = flags.get("socket") as string | undefined;
  return { settings, ...(socket ? { socket } : {}) };
}

/**
 * The plugin keys as the command line's flags, checked (no I/O).
 *
 * @throws {CniError} code 7 naming every unknown key, or a bad value
 */
export function pluginFlags(
  config: JsonObject,
): Map<string, string | boolean | string[]> {
  const unknown = Object.keys(config).filter((k) =>
    !PROTOCOL_KEYS.includes(k) && !Object.hasOwn(FRONT_END_KEYS, k)
  );
  if (unknown.length) {
    throw new CniError(
      CNI_ERROR_CODES.invalidNetworkConfig,
      `Unknown key${unknown.length > 1 ? "s" : ""} ${
        unknown.map((k) => JSON.stringify(k)).join(", ")
      } in the cnishim plugin config: use ${
        Object.keys(FRONT_END_KEYS).join(", ")
      }`,
    );
  }
  const flags = new Map<string, string | boolean | string[]>();
  const bad = (key: string, want: string): never => {
    throw new CniError(
      CNI_ERROR_CODES.invalidNetworkConfig,
      `Invalid "${key}" in the cnishim plugin config: expected ${want}, not ${
        JSON.stringify(config[key])
      }`,
    );
  };
  const absolute = (key: string, v: unknown): string => {
    if (typeof v !== "string" || !v.startsWith("/")) {
      bad(key, "an absolute path");
    }
    return v as string;
  };
  for (const [key, flag] of Object.entries(FRONT_END_KEYS)) {
    const v = config[key];
    if (v === undefined) continue;
    switch (key) {
      case "binDir": {
        const list = typeof v === "string" ? [v] : v;
        if (!Array.isArray(list) || list.length === 0) {
          bad(key, "an absolute path or a list of them");
        }
        flags.set(flag, (list as unknown[]).map((d) => absolute(key, d)));
        break;
      }
      case "serial":
        if (typeof v !== "boolean") bad(key, "true or false");
        flags.set(flag, v as boolean);
        break;
      case "timeout":
      case "delTimeout":
        if (typeof v === "number" && v >= 0) flags.set(flag, `${v}s`);
        else if (typeof v === "string" && v !== "") flags.set(flag, v);
        else bad(key, "seconds or a duration like 30s");
        break;
      case "logLevel":
        if (typeof v !== "string") bad(key, "a log level");
        flags.set(flag, v as string);
        break;
      default:
        flags.set(flag, absolute(key, v));
    }
  }
  // Its own cache tree unless the plugin config names one: the settings
  // file's cni-cache-dir is the command line's, shared with libcni.
  if (!flags.has("cni-cache-dir")) {
    flags.set("cni-cache-dir", FRONT_END_CACHE_DIR);
  }
  return flags;
}

/**
 * Runs one call of the front-end plugin (ADD, DEL, CHECK, STATUS, GC).
 *
 * @throws {CniError} with the inner failure's code and message
 */
export async function runFrontEnd(
  call: FrontEndCall,
  host: FrontEndHost = {},
): Promise<FrontEndOutput> {
  if (host.server) {
    return await runInProcess(
      call,
      serverOptions(pluginFlags(call.config), host.server),
      host.server.logger,
    );
  }
  const own = await frontEndSettings(call.config, call.env);
  const settings = own.settings;
  const logger = createLogger({
    level: settings.logLevel,
    file: settings.logFile,
    format: settings.logFormat,
  });
  if (own.socket) {
    // The forwarder (packaging/cni/cnishim_forwarder.c) tried this socket
    // already: one attempt per call, so that a server that never answers
    // costs the forwarder's deadline once, not again here.
    const tried = call.env[FORWARDER_SOCKET_VARIABLE] === own.socket;
    const forward = host.forward ?? forwardToServer;
    const answer = tried
      ? { refused: call.env[FORWARDER_REFUSED_VARIABLE] || "refused" }
      : await forward(own.socket, call.env, JSON.stringify(call.config));
    if (!("refused" in answer)) return answer;
    // One line: the call goes on here, on the same cache and locks.
    logger.warn(
      `cnishim serve at ${own.socket} did not take the ${call.command} (${answer.refused}): running it in-process`,
      { containerId: call.containerId },
    );
  }
  return await runInProcess(call, runtimeOptions(settings, logger), logger);
}

/** The runtime options of a front-end call: loopback is the runtime's. */
function runtimeOptions(settings: Settings, logger: Logger): RuntimeOptions {
  return {
    binDirs: settings.binDirs,
    cacheDir: settings.cacheDir,
    confDir: settings.confDir,
    networkPlugin: "cni",
    // containerd and CRI-O bring up the sandbox's lo themselves.
    loopback: false,
    serial: settings.serial,
    timeoutMs: settings.timeoutMs,
    delTimeoutMs: settings.delTimeoutMs,
    env: settings.pluginEnv,
    logger,
  };
}

// Inside the server: its settings, its warm networks. A plugin config
// naming other dirs would make the in-process fallback work elsewhere
// than the server (another cache, other locks): refused, naming both. The
// settings file a plugin config names is not read: a server does not read
// files on a client's say-so.
function serverOptions(
  flags: Map<string, string | boolean | string[]>,
  server: NonNullable<FrontEndHost["server"]>,
): RuntimeOptions {
  const theirs = server.settings;
  const given = (flag: string) => {
    const v = flags.get(flag);
    return Array.isArray(v) ? v.join(":") : v as string | undefined;
  };
  const differ = [
    ["confDir", given("cni-conf-dir"), theirs.confDir],
    ["binDir", given("cni-bin-dir"), theirs.binDirs.join(":")],
    ["cacheDir", given("cni-cache-dir"), theirs.cacheDir],
  ].filter(([, a, b]) => a !== undefined && a !== b);
  if (differ.length) {
    throw new CniError(
      CNI_ERROR_CODES.invalidNetworkConfig,
      `The cnishim plugin config and cnishim serve at ${server.socket} disagree: ${
        differ.map(([k, a, b]) => `${k} "${a}" here, "${b}" in the server`)
          .join("; ")
      } (the in-process fallback must use the server's cache and locks)`,
    );
  }
  return {
    ...runtimeOptions(theirs, server.logger),
    ...(server.runtime.networks ? { networks: server.runtime.networks } : {}),
    ...(server.runtime.exec ? { exec: server.runtime.exec } : {}),
  };
}

async function forwardToServer(
  socket: string,
  env: Readonly<Record<string, string>>,
  stdin: string,
): Promise<{ stdout: string; exitCode: number } | { refused: string }> {
  const { sendCniCall } = await import("../serve/client.ts");
  return await sendCniCall(socket, env, stdin);
}

async function runInProcess(
  call: FrontEndCall,
  options: RuntimeOptions,
  log: Logger,
): Promise<FrontEndOutput> {
  const { containerId, netns, ifName } = call;
  switch (call.command) {
    case "ADD": {
      const inputs = podInputs(call);
      const done = await setup(containerId, netns, {
        ...options,
        ...inputs,
        ifName,
      });
      const main = done.networks.find((n) => n.interface === ifName);
      try {
        if (!main) {
          throw new CniError(
            CNI_ERROR_CODES.invalidNetworkConfig,
            `No network was attached to "${ifName}" (the annotations replaced the default network with none)`,
          );
        }
        log.info("pod set up", {
          containerId,
          networks: done.networks.map((n) => `${n.name}@${n.interface}`),
        });
        return { result: convertResult(main.result, call.cniVersion) };
      } catch (error) {
        // Nothing is left attached for a result the runtime never gets.
        await remove(containerId, netns, options).catch((undo) => {
          throw new AggregateCniError(
            `ADD of container "${containerId}" failed and its teardown failed too`,
            [toCniError(error), toCniError(undo)],
          );
        });
        throw error;
      }
    }
    case "DEL": {
      const report = await remove(containerId, netns, options);
      for (const w of report.warnings) log.warn(w, { containerId });
      log.info("pod torn down", {
        containerId,
        networks: report.removed.map((n) => `${n.network}@${n.interface}`),
      });
      return {};
    }
    case "CHECK": {
      await checkPrevResult(call, options);
      await check(containerId, netns, options);
      return {};
    }
    case "STATUS": {
      const report = await status(options);
      if (!report.ready) {
        throw new CniError(
          CNI_ERROR_CODES.pluginNotAvailable,
          `cnishim cannot set up pods: ${report.reasons.join("; ")}`,
        );
      }
      return {};
    }
    case "GC": {
      const listed = gcAttachments(call.config);
      const done = await gc([], { ...options, keepAttachments: listed });
      log.info("gc", { removedContainers: done.removedContainers });
      return {};
    }
  }
  throw new CniError(
    CNI_ERROR_CODES.invalidEnvironmentVariables,
    `unknown CNI_COMMAND: ${call.command}`,
  );
}

/**
 * The pod's inputs from `CNI_ARGS` (passed on as they are) and
 * `runtimeConfig`: the typed capabilities go through the runtime's own
 * parsers (messages name the field); the others pass on as they are.
 */
function podInputs(call: FrontEndCall): PodInputs {
  const args = parseCniArgs(call.args, "CNI_ARGS");
  const rc = call.config.runtimeConfig ?? {};
  if (!isJsonObject(rc)) {
    throw new CniError(
      CNI_ERROR_CODES.invalidNetworkConfig,
      `Invalid "runtimeConfig": expected an object`,
    );
  }
  const inputs: Record<string, unknown> = { args };
  const rest: JsonObject = {};
  for (const [k, v] of Object.entries(rc)) {
    if (v === null || v === undefined) continue;
    if (k === ANNOTATIONS) inputs.annotations = v;
    else if (TYPED_CAPABILITIES.includes(k)) inputs[k] = v;
    else rest[k] = v;
  }
  if (Object.keys(rest).length) inputs.capabilityArgs = rest;
  return inputs as PodInputs;
}

// CHECK's prevResult is what the runtime got from ADD: its addresses must
// be those of the primary attachment's cached result.
async function checkPrevResult(
  call: FrontEndCall,
  options: RuntimeOptions,
): Promise<void> {
  const prev = call.config.prevResult;
  const { scan } = await readPod(
    options.cacheDir ?? FRONT_END_CACHE_DIR,
    call.containerId,
  );
  const primary = scan.entries.find((e) => e.ifName === call.ifName);
  if (!primary) {
    throw new CniError(
      CNI_ERROR_CODES.unknownContainer,
      `CHECK of container "${call.containerId}": cnishim has no attachment of it on "${call.ifName}"`,
    );
  }
  if (prev === undefined) return;
  if (!isJsonObject(prev)) {
    throw new CniError(
      CNI_ERROR_CODES.invalidNetworkConfig,
      `Invalid "prevResult": expected a result object`,
    );
  }
  const addresses = (r: CniResult) =>
    resultIps(r).map((ip) => ip.address).sort();
  const given = addresses(parseResult(prev, call.cniVersion));
  const cached = primary.result ? addresses(primary.result) : [];
  if (given.join(",") !== cached.join(",")) {
    throw new CniError(
      CNI_ERROR_CODES.invalidNetworkConfig,
      `CHECK of container "${call.containerId}": prevResult has the addresses [${
        given.join(", ")
      }], network "${primary.networkName}" on "${call.ifName}" was given [${
        cached.join(", ")
      }]`,
    );
  }
}

/** GC's list of attachments still valid. */
function gcAttachments(config: JsonObject): GcAttachment[] {
  const list = config["cni.dev/valid-attachments"] ??
    config["cni.dev/attachments"] ?? [];
  const ok = Array.isArray(list) &&
    list.every((a) =>
      isJsonObject(a) && typeof a.containerID === "string" &&
      typeof a.ifname === "string"
    );
  if (!ok) {
    throw new CniError(
      CNI_ERROR_CODES.invalidNetworkConfig,
      `Invalid "cni.dev/valid-attachments": expected a list of {containerID, ifname}`,
    );
  }
  return list as GcAttachment[];
}
