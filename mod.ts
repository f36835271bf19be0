/**
 * cnishim as a library: the CNI front end a container runtime calls for
 * every pod sandbox, at two levels named after their Go models. The pod
 * verbs ({@link setup}, {@link remove}, {@link check}, {@link status},
 * {@link gc}, {@link forceDrop}, over a conf dir bound by {@link load})
 * are go-cni's; the engine verbs ({@link addNetworkList} and its kin, for
 * one network list you loaded with {@link loadNetworkConfigList}) are
 * libcni's. Every failure is a {@link CniError} carrying the spec's code.
 *
 * @example Attach a pod to the default network of a conf dir
 * ```ts ignore
 * import { remove, setup } from "@cnishim/cnishim";
 *
 * const options = { binDirs: ["/usr/lib/cni"], confDir: "/etc/cni/net.d" };
 * const result = await setup("pod1", "/var/run/netns/pod1", {
 *   ...options,
 *   pod: { name: "web-0", namespace: "prod" },
 *   portMappings: [{ hostPort: 8080, containerPort: 80, protocol: "tcp" }],
 * });
 * console.log(result.primaryIP);
 * await remove("pod1", "/var/run/netns/pod1", options);
 * ```
 *
 * @module
 */

// The pod verbs (go-cni), each with its options and its report.
export { setup } from "./src/runtime/setup.ts";
export type {
  AttachedNetwork,
  SetupOptions,
  SetupResult,
} from "./src/runtime/setup.ts";
export type { ResultIp } from "./src/result/result_ips.ts";
export type { Dns, IpRange, PodInputs } from "./src/runtime/pod_inputs.ts";
export type { PodIdentity } from "./src/runtime/cni_args.ts";
export type { PortMapping } from "./src/runtime/port_mappings.ts";
export type { Bandwidth } from "./src/runtime/bandwidth.ts";
export { remove } from "./src/runtime/remove.ts";
export type { RemoveReport } from "./src/runtime/remove.ts";
export { check } from "./src/runtime/check.ts";
export type { CheckedNetwork } from "./src/runtime/check.ts";
export { status } from "./src/runtime/status.ts";
export type { StatusReport } from "./src/runtime/status.ts";
export { gc } from "./src/runtime/gc.ts";
export type { GcOptions, GcResult } from "./src/runtime/gc.ts";
export { forceDrop } from "./src/runtime/force_drop.ts";
export type {
  DroppedAttachment,
  ForceDropReport,
} from "./src/runtime/force_drop.ts";
export { getConfig, load } from "./src/runtime/load.ts";
export type { LoadedRuntime, RuntimeConfig } from "./src/runtime/load.ts";
export type { RuntimeOptions } from "./src/runtime/runtime_options.ts";
// RuntimeOptions' logger.
export type { Logger, LogLevel } from "./src/log/logger.ts";

// The engine verbs (libcni), for one network list or one network config.
export { addNetworkList } from "./src/engine/add_network_list.ts";
export { checkNetworkList } from "./src/engine/check_network_list.ts";
export { delNetworkList } from "./src/engine/del_network_list.ts";
export type { DelReport } from "./src/engine/del_network_list.ts";
export { gcNetworkList } from "./src/engine/gc_network_list.ts";
export type { GcArgs, GcReport } from "./src/engine/gc_network_list.ts";
export { getStatusNetworkList } from "./src/engine/get_status_network_list.ts";
export { validateNetworkList } from "./src/engine/validate_network_list.ts";
export { getVersionInfo } from "./src/engine/get_version_info.ts";
export type { PluginVersionInfo } from "./src/engine/get_version_info.ts";
export {
  getCachedAttachments,
  getCachedConfig,
  getCachedResult,
} from "./src/engine/get_cached_result.ts";
export type { CachedConfig } from "./src/engine/get_cached_result.ts";
export type { CacheEntry } from "./src/cache/cache_entry.ts";
export {
  addNetwork,
  checkNetwork,
  delNetwork,
  getNetworkCachedConfig,
  getNetworkCachedResult,
  validateNetwork,
} from "./src/engine/single_network.ts";
export type { EngineOptions } from "./src/engine/engine_options.ts";
// EngineOptions' exec, the plugin runner a runtime may replace or wrap.
export type { ExecRequest, PluginExec } from "./src/invoke/exec_plugin.ts";

// Network configs: one file, or a conf dir's networks.
export {
  loadNetworkConfigList,
  parseNetworkConfigList,
} from "./src/config/parse_network_config.ts";
export type {
  ConfigFormat,
  ParseConfigOptions,
} from "./src/config/parse_network_config.ts";
export { loadNetworks } from "./src/config/load_networks.ts";
export type {
  LoadedNetworks,
  LoadNetworksOptions,
  SkippedFile,
} from "./src/config/load_networks.ts";

// Results: a plugin's output checked, and converted between versions (to
// 1.0.0 or 1.1.0 typed as a Result100).
export { parseResult } from "./src/result/parse_result.ts";
export { convertResult } from "./src/result/convert_result.ts";

// The spec's data model, which the verbs take and return.
export type {
  CniArg,
  CniResult,
  GcAttachment,
  JsonObject,
  NetworkConfigList,
  PluginConfig,
  Result100,
  RuntimeConf,
} from "./src/spec/types.ts";

// Errors: one family carrying the spec's codes; the option types are their
// constructors'.
export {
  AggregateCniError,
  CNI_ERROR_CODES,
  CniError,
  ConfigError,
  DelStoppedError,
  IdentifierError,
  PluginError,
  PluginTimeoutError,
} from "./src/spec/errors.ts";
export type {
  CniCommand,
  CniErrorCode,
  CniErrorObject,
  CniErrorOptions,
  ConfigErrorOptions,
  DelStoppedErrorOptions,
  PluginErrorOptions,
} from "./src/spec/errors.ts";
