/**
 * cnishim: the CNI front end a container runtime calls for every pod
 * sandbox, as a library.
 *
 * Two levels, named like their Go models:
 * - the pod runtime (go-cni): {@link setup}, {@link remove}, {@link check},
 *   {@link status}, {@link gc}, {@link forceDrop} (the way out of a
 *   container no DEL can clear), with {@link RuntimeOptions}, {@link GcOptions} and
 *   {@link SetupOptions} (whose pod inputs are {@link PodInputs}:
 *   {@link PodIdentity}, {@link PortMapping}, {@link Bandwidth},
 *   {@link Dns}, {@link IpRange}); they return {@link SetupResult} (of
 *   {@link AttachedNetwork}), {@link RemoveReport}, {@link CheckedNetwork},
 *   {@link StatusReport}, {@link GcResult}, {@link ForceDropReport} (of
 *   {@link DroppedAttachment}); loopback is
 *   {@link LOOPBACK_NETWORK}; go-cni's Load/GetConfig as {@link load}
 *   (one scan of a conf dir bound for the pod verbs, a
 *   {@link LoadedRuntime}) and {@link getConfig} (a {@link RuntimeConfig});
 * - the engine (libcni), for one network list: {@link addNetworkList},
 *   {@link checkNetworkList}, {@link delNetworkList}, {@link gcNetworkList},
 *   {@link getStatusNetworkList}, {@link validateNetworkList},
 *   {@link getVersionInfo}, and for a single-plugin network config
 *   libcni's {@link addNetwork}, {@link checkNetwork}, {@link delNetwork},
 *   {@link validateNetwork}, {@link getNetworkCachedResult},
 *   {@link getNetworkCachedConfig}; the cache readers {@link getCachedResult},
 *   {@link getCachedConfig}, {@link getCachedAttachments}, and the plugin
 *   stdin builders {@link buildPluginConfig}, {@link buildStatusConfig},
 *   {@link buildGcConfig}; with {@link EngineOptions},
 *   {@link DEFAULT_TIMEOUT_MS}, {@link PluginConfigInputs},
 *   {@link DelReport}, {@link GcArgs}, {@link GcReport},
 *   {@link CachedConfig}, {@link CacheEntry}, {@link PluginVersionInfo},
 *   and the plugin runner {@link processExec} ({@link PluginExec},
 *   {@link ExecRequest}).
 *
 * Network configs: {@link parseNetworkConfigList},
 * {@link loadNetworkConfigList} ({@link ParseConfigOptions},
 * {@link ConfigFormat}, {@link MAX_CONFIG_FILE_SIZE}), {@link confFiles}
 * ({@link CONFIG_EXTENSIONS}), {@link loadNetworks}, {@link findNetwork}
 * ({@link LoadNetworksOptions}, {@link LoadedNetworks},
 * {@link SkippedFile}, {@link MAX_CONFIG_FILES}). Results:
 * {@link parseResult}, {@link tryParseResult}, {@link convertResult},
 * {@link resultFamily} ({@link ResultFamily}), {@link resultIps},
 * {@link primaryIp} ({@link ResultIp}).
 *
 * The spec's vocabulary: the types {@link NetworkConfigList},
 * {@link PluginConfig}, {@link RuntimeConf}, {@link CniArg},
 * {@link CniResult}, {@link GcAttachment}, {@link JsonObject}; versions
 * {@link SUPPORTED_VERSIONS}, {@link CURRENT_VERSION},
 * {@link parseVersion}, {@link tryParseVersion} ({@link VersionTuple}),
 * {@link compareVersions}, {@link versionAtLeast},
 * {@link isSupportedVersion}, {@link supportsCheck},
 * {@link supportsPrevResultOnDel}, {@link supportsGcAndStatus};
 * identifiers {@link validateContainerId}, {@link validateNetworkName},
 * {@link validateIfName}, {@link validatePluginType},
 * {@link MAX_CONTAINER_ID_LENGTH}, {@link MAX_NETWORK_NAME_LENGTH},
 * {@link MAX_IFNAME_BYTES}; defaults {@link DEFAULT_BIN_DIR},
 * {@link DEFAULT_CONF_DIR}, {@link DEFAULT_CACHE_DIR}; logging
 * {@link createLogger} ({@link Logger}, {@link LoggerOptions},
 * {@link LogLevel}, {@link LogFormat}).
 *
 * Every failure is a {@link CniError} carrying the spec's error code
 * ({@link CNI_ERROR_CODES}, {@link CniErrorCode}, {@link CniErrorObject},
 * {@link CniErrorOptions}), or one of its kinds: {@link ConfigError}
 * ({@link ConfigErrorOptions}), {@link IdentifierError},
 * {@link PluginError} ({@link PluginErrorOptions}, {@link CniCommand}),
 * {@link PluginTimeoutError}, {@link AggregateCniError}, and
 * {@link DelStoppedError} ({@link DelStoppedErrorOptions}) for a DEL that
 * stopped at a failing plugin;
 * {@link toCniError} turns anything thrown into one.
 *
 * This list is the whole surface: `scripts/check_mod_exports.ts` fails
 * when an export is missing from it or it names something not exported.
 *
 * @example Attach a pod to the default network of a conf dir
 * ```ts ignore
 * import { remove, setup } from "./mod.ts";
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
 * @example Run one network list with the engine
 * ```ts ignore
 * import { addNetworkList, delNetworkList, loadNetworkConfigList } from "./mod.ts";
 *
 * const list = await loadNetworkConfigList("/etc/cni/net.d/10-mynet.conflist");
 * const rt = { containerId: "abc", netns: "/var/run/netns/abc", ifName: "eth0" };
 * const result = await addNetworkList(list, rt, { binDirs: ["/opt/cni/bin"] });
 * await delNetworkList(list, rt, { binDirs: ["/opt/cni/bin"] });
 * ```
 *
 * @module
 */
export {
  AggregateCniError,
  CNI_ERROR_CODES,
  CniError,
  ConfigError,
  DelStoppedError,
  IdentifierError,
  PluginError,
  PluginTimeoutError,
  toCniError,
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
export {
  compareVersions,
  CURRENT_VERSION,
  isSupportedVersion,
  parseVersion,
  SUPPORTED_VERSIONS,
  supportsCheck,
  supportsGcAndStatus,
  supportsPrevResultOnDel,
  tryParseVersion,
  versionAtLeast,
} from "./src/spec/version.ts";
export type { VersionTuple } from "./src/spec/version.ts";
export {
  MAX_CONTAINER_ID_LENGTH,
  MAX_IFNAME_BYTES,
  MAX_NETWORK_NAME_LENGTH,
  validateContainerId,
  validateIfName,
  validateNetworkName,
  validatePluginType,
} from "./src/spec/identifiers.ts";
export {
  DEFAULT_BIN_DIR,
  DEFAULT_CACHE_DIR,
  DEFAULT_CONF_DIR,
} from "./src/spec/defaults.ts";
export type {
  CniArg,
  CniResult,
  GcAttachment,
  JsonObject,
  NetworkConfigList,
  PluginConfig,
  RuntimeConf,
} from "./src/spec/types.ts";
export { parseResult, tryParseResult } from "./src/result/parse_result.ts";
export { convertResult, resultFamily } from "./src/result/convert_result.ts";
export type { ResultFamily } from "./src/result/convert_result.ts";
export { primaryIp, resultIps } from "./src/result/result_ips.ts";
export type { ResultIp } from "./src/result/result_ips.ts";
export {
  loadNetworkConfigList,
  MAX_CONFIG_FILE_SIZE,
  parseNetworkConfigList,
} from "./src/config/parse_network_config.ts";
export type {
  ConfigFormat,
  ParseConfigOptions,
} from "./src/config/parse_network_config.ts";
export { confFiles, CONFIG_EXTENSIONS } from "./src/config/conf_files.ts";
export {
  findNetwork,
  loadNetworks,
  MAX_CONFIG_FILES,
} from "./src/config/load_networks.ts";
export type {
  LoadedNetworks,
  LoadNetworksOptions,
  SkippedFile,
} from "./src/config/load_networks.ts";
export { processExec } from "./src/invoke/exec_plugin.ts";
export type { ExecRequest, PluginExec } from "./src/invoke/exec_plugin.ts";
export type { CacheEntry } from "./src/cache/cache_entry.ts";
export { DEFAULT_TIMEOUT_MS } from "./src/engine/engine_options.ts";
export type { EngineOptions } from "./src/engine/engine_options.ts";
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
export {
  buildGcConfig,
  buildPluginConfig,
  buildStatusConfig,
} from "./src/engine/build_plugin_config.ts";
export type { PluginConfigInputs } from "./src/engine/build_plugin_config.ts";
export { createLogger } from "./src/log/logger.ts";
export type {
  LogFormat,
  Logger,
  LoggerOptions,
  LogLevel,
} from "./src/log/logger.ts";
export { LOOPBACK_NETWORK } from "./src/runtime/runtime_options.ts";
export type { RuntimeOptions } from "./src/runtime/runtime_options.ts";
export { setup } from "./src/runtime/setup.ts";
export type {
  AttachedNetwork,
  SetupOptions,
  SetupResult,
} from "./src/runtime/setup.ts";
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
export {
  addNetwork,
  checkNetwork,
  delNetwork,
  getNetworkCachedConfig,
  getNetworkCachedResult,
  validateNetwork,
} from "./src/engine/single_network.ts";
