/**
 * The front end's view of a conf dir: every valid network in order (the
 * first is the default), and every file skipped with the reason, never
 * fatal (CRI-O and iSulad rules, iSulad's limits).
 *
 * @module
 */
import { baseName } from "../spec/posix_path.ts";
import { CNI_ERROR_CODES, toCniError } from "../spec/errors.ts";
import type { NetworkConfigList } from "../spec/types.ts";
import { isuladNetworkNameProblem } from "../spec/identifiers.ts";
import { confDirEntries } from "./conf_files.ts";
import {
  loadNetworkConfigList,
  MAX_CONFIG_FILE_SIZE,
} from "./parse_network_config.ts";

/** A file that did not become a network. */
export interface SkippedFile {
  /** The file. */
  file: string;
  /** Why. */
  reason: string;
  /** The CNI error code of the reason. */
  code: number;
}

/** What a scan found. */
export interface LoadedNetworks {
  /** Valid networks in file order; the first is the default. */
  networks: NetworkConfigList[];
  /** The default network, when any is valid. */
  defaultNetwork?: NetworkConfigList;
  /** Files skipped, with why. */
  skipped: SkippedFile[];
  /** The directory does not exist (rather than holding no valid file). */
  confDirMissing?: boolean;
}

/** Options of {@link loadNetworks}. */
export interface LoadNetworksOptions {
  /** Files considered at most. @default {200} */
  maxFiles?: number;
  /** Largest file accepted. @default {1048576} */
  maxFileSize?: number;
  /**
   * Stop at the first valid network once every name listed here is found
   * too (what ADD needs): files after that point are neither read nor
   * reported. `networks`/`status` leave it unset and get the full scan.
   * @default {undefined: scan every file}
   */
  stopWhenFound?: readonly string[];
  /**
   * Reads one file that passed the size check; `cnishim serve` puts its
   * cache here. @default {loadNetworkConfigList}
   */
  loadList?: (file: string, info: Deno.FileInfo) => Promise<NetworkConfigList>;
}

/** The `type` of cnishim as a plugin, whose networks are never loaded. */
export const SELF_TYPE = "cnishim";

/** Most files considered (iSulad's documented limit). */
export const MAX_CONFIG_FILES = 200;
/**
 * Scans `dir`. Invalid files, files over the size limit, files past the
 * count limit, names breaking the iSulad rule, networks running cnishim
 * itself (`type` `cnishim`: no recursion) and later duplicates of a name
 * are skipped and reported, and so are FIFOs, sockets and devices with a
 * config file's name, without being opened. The first file of a name wins,
 * whatever its extension (CRI-O's rule; libcni would prefer a `.conflist`).
 *
 * @example Usage
 * ```ts
 * import { loadNetworks } from "./load_networks.ts";
 * import { equal } from "node:assert/strict";
 * const loaded = await loadNetworks("/proc/no-such-conf-dir");
 * equal(loaded.networks.length, 0);
 * equal(loaded.confDirMissing, true);
 * ```
 */
export async function loadNetworks(
  dir: string,
  options: LoadNetworksOptions = {},
): Promise<LoadedNetworks> {
  const maxFiles = options.maxFiles ?? MAX_CONFIG_FILES;
  const maxSize = options.maxFileSize ?? MAX_CONFIG_FILE_SIZE;
  const loadList = options.loadList ?? loadNetworkConfigList;
  const wanted = options.stopWhenFound && new Set(options.stopWhenFound);
  const { files, irregular } = await confDirEntries(dir);
  const networks: NetworkConfigList[] = [];
  // Reported, never opened: a FIFO would block the scan until a writer came.
  const skipped: SkippedFile[] = irregular.map((e) => ({
    file: e.path,
    reason: `${e.kind}, not a regular file: not opened`,
    code: CNI_ERROR_CODES.ioFailure,
  }));
  const owners = new Map<string, string>();
  for (const [i, file] of files.entries()) {
    if (i >= maxFiles) {
      skipped.push({
        file,
        reason:
          `more than ${maxFiles} config files; only the first ${maxFiles} are considered`,
        code: CNI_ERROR_CODES.invalidNetworkConfig,
      });
      continue;
    }
    try {
      const info = await Deno.stat(file);
      if (info.size > maxSize) {
        skipped.push({
          file,
          reason: `${info.size} bytes is over the limit of ${maxSize}`,
          code: CNI_ERROR_CODES.invalidNetworkConfig,
        });
        continue;
      }
      const list = await loadList(file, info);
      const problem = isuladNetworkNameProblem(list.name);
      if (problem) {
        skipped.push({
          file,
          reason: problem,
          code: CNI_ERROR_CODES.invalidNetworkConfig,
        });
        continue;
      }
      // cnishim as the runtime's plugin sits in the conf dir it reads: a
      // network running cnishim would run itself again, for ever.
      if (list.plugins.some((p) => p.type === SELF_TYPE)) {
        skipped.push({
          file,
          reason:
            `network "${list.name}" runs cnishim itself (a plugin of type "${SELF_TYPE}"): skipped, cnishim does not call itself`,
          code: CNI_ERROR_CODES.invalidNetworkConfig,
        });
        continue;
      }
      const owner = owners.get(list.name);
      if (owner) {
        skipped.push({
          file,
          reason: `duplicate of network "${list.name}" from ${baseName(owner)}`,
          code: CNI_ERROR_CODES.invalidNetworkConfig,
        });
        continue;
      }
      owners.set(list.name, file);
      networks.push(list);
      // Later files cannot change the default or a first-of-its-name.
      wanted?.delete(list.name);
      if (wanted?.size === 0) break;
    } catch (error) {
      const e = toCniError(error);
      skipped.push({
        file,
        reason: e.message.replace(`${file}: `, ""),
        code: e.code,
      });
    }
  }
  const missing = files.length === 0 && irregular.length === 0 &&
    await Deno.stat(dir).then(
      () => false,
      (e) => e instanceof Deno.errors.NotFound,
    );
  return {
    networks,
    ...(networks[0] ? { defaultNetwork: networks[0] } : {}),
    skipped,
    ...(missing ? { confDirMissing: true } : {}),
  };
}

/** The network of that name, if loaded. */
export function findNetwork(
  loaded: LoadedNetworks,
  name: string,
): NetworkConfigList | undefined {
  return loaded.networks.find((n) => n.name === name);
}
