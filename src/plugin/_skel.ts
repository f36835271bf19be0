// Pure: no Deno API.
/**
 * What Go's `pkg/skel` does before a plugin's own code runs, with its codes
 * and messages: required `CNI_*` variables per verb, config decoding, the
 * network name, container ID and interface name checks, and the version
 * gates. Keeping skel's wording lets cnishim stand in for a Go plugin
 * without a runtime noticing.
 *
 * @module
 */
import { CNI_ERROR_CODES, type CniCommand, CniError } from "../spec/errors.ts";
import type { JsonObject } from "../spec/types.ts";
import {
  containerIdProblem,
  ifNameProblem,
  networkNameProblem,
} from "../spec/identifiers.ts";
import { isJsonObject, parseJson } from "../spec/json.ts";
import {
  CURRENT_VERSION,
  SUPPORTED_VERSIONS,
  tryParseVersion,
  versionAtLeast,
} from "../spec/version.ts";

/** One plugin invocation, after skel's checks. */
export interface PluginCall {
  /** `CNI_COMMAND`. */
  readonly command: CniCommand;
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
  /** The whole process environment (delegates inherit it, as with libcni's `invoke`). */
  readonly env: Readonly<Record<string, string>>;
}

const KNOWN: readonly string[] = [
  "ADD",
  "CHECK",
  "DEL",
  "GC",
  "STATUS",
  "VERSION",
];
const REQUIRED: Record<string, readonly string[]> = {
  CNI_CONTAINERID: ["ADD", "CHECK", "DEL"],
  CNI_NETNS: ["ADD", "CHECK"],
  CNI_IFNAME: ["ADD", "CHECK", "DEL"],
  CNI_ARGS: [],
  CNI_PATH: ["ADD", "CHECK", "DEL", "GC", "STATUS"],
};

/** The VERSION answer. */
export function versionInfo(): JsonObject {
  return {
    cniVersion: CURRENT_VERSION,
    supportedVersions: [...SUPPORTED_VERSIONS],
  };
}

/** Go's `%q` of a string slice: `["a" "b"]`. */
function goQuoteList(items: readonly string[]): string {
  return `[${items.map((s) => JSON.stringify(s)).join(" ")}]`;
}

/**
 * skel's environment check, reporting every missing variable at once.
 *
 * @throws {CniError} code 4
 */
export function checkEnv(env: Readonly<Record<string, string>>): CniCommand {
  const command = env.CNI_COMMAND ?? "";
  const missing = command === "" ? ["CNI_COMMAND"] : [];
  for (const [name, verbs] of Object.entries(REQUIRED)) {
    if (!env[name] && verbs.includes(command)) missing.push(name);
  }
  if (missing.length) {
    throw new CniError(
      CNI_ERROR_CODES.invalidEnvironmentVariables,
      `required env variables [${missing.join(",")}] missing`,
    );
  }
  return command as CniCommand;
}

/**
 * Decodes stdin and runs skel's checks for `command` (not VERSION).
 *
 * @throws {CniError} with skel's code and message
 */
export function decodeCall(
  command: CniCommand,
  stdin: string,
  env: Readonly<Record<string, string>>,
): PluginCall {
  const config = parseJson(stdin, "error unmarshall network config");
  if (!isJsonObject(config)) {
    throw new CniError(
      CNI_ERROR_CODES.decodingFailure,
      "error unmarshall network config: not a JSON object",
    );
  }
  const obj = config;
  if (
    obj.name !== undefined && obj.name !== null && typeof obj.name !== "string"
  ) {
    throw new CniError(
      CNI_ERROR_CODES.decodingFailure,
      `error unmarshall network config: "name" must be a string, not ${typeof obj
        .name}`,
    );
  }
  const name = (obj.name as string | null | undefined) ?? "";
  // libcni bounds no length: Infinity keeps its rule.
  const nameProblem = networkNameProblem(name, Infinity)?.rule;
  if (nameProblem === "empty") {
    throw new CniError(
      CNI_ERROR_CODES.invalidNetworkConfig,
      "missing network name",
    );
  }
  if (nameProblem) {
    throw new CniError(
      CNI_ERROR_CODES.invalidNetworkConfig,
      "invalid characters found in network name",
      { details: name },
    );
  }
  const call: PluginCall = {
    command,
    containerId: env.CNI_CONTAINERID ?? "",
    netns: env.CNI_NETNS ?? "",
    ifName: env.CNI_IFNAME ?? "",
    args: env.CNI_ARGS ?? "",
    path: env.CNI_PATH ?? "",
    config: obj,
    cniVersion: "",
    env,
  };
  if (command !== "GC" && command !== "STATUS") {
    checkContainerId(call.containerId);
    checkIfName(call.ifName);
  }
  if (!KNOWN.includes(command)) {
    throw new CniError(
      CNI_ERROR_CODES.invalidEnvironmentVariables,
      `unknown CNI_COMMAND: ${command}`,
    );
  }
  const version = obj.cniVersion ?? "";
  if (typeof version !== "string") {
    throw new CniError(
      CNI_ERROR_CODES.decodingFailure,
      `decoding version from network config: "cniVersion" must be a string, not ${typeof version}`,
    );
  }
  const gate = { CHECK: "0.4.0", GC: "1.1.0", STATUS: "1.1.0" }[
    command as string
  ];
  if (gate) {
    if (!tryParseVersion(version)) {
      throw new CniError(
        CNI_ERROR_CODES.decodingFailure,
        `failed to parse version ${JSON.stringify(version)}`,
      );
    }
    if (!versionAtLeast(version, gate)) {
      throw new CniError(
        CNI_ERROR_CODES.incompatibleCniVersion,
        `config version does not allow ${command}`,
      );
    }
  }
  const effective = version === "" ? "0.1.0" : version;
  if (!SUPPORTED_VERSIONS.includes(effective)) {
    throw new CniError(
      CNI_ERROR_CODES.incompatibleCniVersion,
      "incompatible CNI versions",
      {
        details: `config is ${JSON.stringify(effective)}, plugin supports ${
          goQuoteList(SUPPORTED_VERSIONS)
        }`,
      },
    );
  }
  return { ...call, cniVersion: version };
}

// libcni's ValidateContainerID and ValidateInterfaceName, with their words.
function checkContainerId(id: string): void {
  const problem = containerIdProblem(id, Infinity)?.rule;
  if (problem === "empty") {
    throw new CniError(CNI_ERROR_CODES.unknownContainer, "missing containerID");
  }
  if (problem) {
    throw new CniError(
      CNI_ERROR_CODES.invalidEnvironmentVariables,
      "invalid characters in containerID",
      { details: id },
    );
  }
}

const GO_IFNAME_WORDS = {
  empty: ["interface name is empty"],
  length: [
    "interface name is too long",
    "interface name should be less than 16 characters",
  ],
  dots: ["interface name is . or .."],
  characters: ["interface name contains / or : or whitespace characters"],
} as const;

function checkIfName(name: string): void {
  const problem = ifNameProblem(name, { goRule: true });
  if (problem) {
    const [msg, details] = GO_IFNAME_WORDS[problem.rule];
    throw new CniError(CNI_ERROR_CODES.invalidEnvironmentVariables, msg, {
      details,
    });
  }
}

/**
 * Go's `types.LoadArgs` into a struct with the given field names plus
 * `IgnoreUnknown`: unknown keys are an error unless `IgnoreUnknown` is
 * 1/true; every pair needs exactly one `=`; the last value of a key wins.
 *
 * @throws {CniError} code 999 with libcni's `ARGS: …` messages
 */
export function loadArgs(
  text: string,
  fields: readonly string[],
): Map<string, string> {
  const out = new Map<string, string>();
  if (text === "") return out;
  const unknown: string[] = [];
  let ignoreUnknown = false;
  for (const pair of text.split(";")) {
    const kv = pair.split("=");
    if (kv.length !== 2) {
      throw new CniError(
        CNI_ERROR_CODES.internal,
        `ARGS: invalid pair ${JSON.stringify(pair)}`,
      );
    }
    const [key, value] = kv as [string, string];
    if (key === "IgnoreUnknown") {
      const v = value.toLowerCase();
      if (!["1", "true", "0", "false"].includes(v)) {
        throw new CniError(
          CNI_ERROR_CODES.internal,
          `ARGS: error parsing value of pair ${
            JSON.stringify(pair)
          }: boolean unmarshal error: invalid input ${v}`,
        );
      }
      ignoreUnknown = v === "1" || v === "true";
    } else if (fields.includes(key)) {
      out.set(key, value);
    } else {
      unknown.push(pair);
    }
  }
  if (unknown.length && !ignoreUnknown) {
    throw new CniError(
      CNI_ERROR_CODES.internal,
      `ARGS: unknown args ${goQuoteList(unknown)}`,
    );
  }
  return out;
}
