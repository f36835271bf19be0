/**
 * go-cni's `Load` and `GetConfig`: scan the conf dir once, hand that set to
 * the pod verbs, and show what was loaded.
 *
 * @module
 */
import type { NetworkConfigList } from "../spec/types.ts";
import type { LoadedNetworks, SkippedFile } from "../config/load_networks.ts";
import {
  confNetworks,
  noValidNetwork,
  requireConfNetworks,
} from "./conf_networks.ts";
import { loopbackNetwork } from "./_loopback.ts";
import {
  resolveRuntimeOptions,
  type RuntimeOptions,
} from "./runtime_options.ts";

/** Runtime options with a loaded set of networks bound (what {@link load} returns). */
export interface LoadedRuntime extends RuntimeOptions {
  /** The networks {@link load} found; the pod verbs use them instead of a rescan. */
  networks: () => Promise<LoadedNetworks>;
}

/** What {@link getConfig} reports (go-cni's `ConfigResult`). */
export interface RuntimeConfig {
  /** The plugin directories. */
  binDirs: readonly string[];
  /** The conf dir the networks come from. */
  confDir: string;
  /** The cache dir. */
  cacheDir: string;
  /** The valid networks in file order; the first is the default. */
  networks: NetworkConfigList[];
  /** The default network's name, when there is one. */
  defaultNetwork?: string;
  /** Files that did not become a network, with why. */
  skipped: SkippedFile[];
  /** The loopback network `lo` gets, when it is brought up (go-cni's `WithLoNetwork`). */
  loopback?: NetworkConfigList;
}

/**
 * Scans the conf dir now and binds the result: `setup`, `remove`, `check`,
 * `status` and `gc` given the returned options use this set, not a fresh
 * scan, until `load` is called again (go-cni's `Load`).
 *
 * @example Usage
 * ```ts ignore
 * import { load, remove, setup } from "./mod.ts";
 *
 * const cni = await load({ binDirs: ["/usr/lib/cni"], confDir: "/etc/cni/net.d" });
 * await setup("pod1", "/var/run/netns/pod1", cni);
 * await remove("pod1", "/var/run/netns/pod1", cni);
 * ```
 * @throws {CniError} code 11 when the conf dir does not exist or holds no
 * valid network (naming the files skipped)
 */
export async function load(
  options: RuntimeOptions = {},
): Promise<LoadedRuntime> {
  const { networks: _previous, ...rest } = options;
  const resolved = resolveRuntimeOptions(rest);
  const loaded = await requireConfNetworks(resolved);
  if (resolved.networkPlugin === "cni" && !loaded.defaultNetwork) {
    throw noValidNetwork(resolved, loaded.skipped);
  }
  return { ...rest, networks: () => Promise.resolve(loaded) };
}

/**
 * What the pod verbs work with: directories, networks (the bound set of
 * {@link load}, else a scan now), the default, and loopback (go-cni's
 * `GetConfig`).
 *
 * @example Usage
 * ```ts ignore
 * import { getConfig, load } from "./mod.ts";
 *
 * const config = await getConfig(await load({ confDir: "/etc/cni/net.d" }));
 * console.log(config.defaultNetwork, config.networks.map((n) => n.name));
 * ```
 */
export async function getConfig(
  options: RuntimeOptions = {},
): Promise<RuntimeConfig> {
  const resolved = resolveRuntimeOptions(options);
  const { engine } = resolved;
  const loaded = await confNetworks(resolved);
  const loopback = resolved.loopback
    ? await loopbackNetwork(engine)
    : undefined;
  return {
    binDirs: engine.binDirs,
    confDir: resolved.confDir,
    cacheDir: engine.cacheDir,
    networks: loaded.networks,
    ...(loaded.defaultNetwork
      ? { defaultNetwork: loaded.defaultNetwork.name }
      : {}),
    skipped: loaded.skipped,
    ...(loopback ? { loopback } : {}),
  };
}
