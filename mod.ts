/**
 * cnishim: the CNI front end a container runtime calls for every pod
 * sandbox, as a library.
 *
 * Two levels, named like their Go models:
 * - the engine (libcni): {@link addNetworkList}, {@link checkNetworkList},
 *   {@link delNetworkList}, {@link gcNetworkList},
 *   {@link getStatusNetworkList}, {@link validateNetworkList},
 *   {@link getVersionInfo}, and the cache readers {@link getCachedResult},
 *   {@link getCachedConfig}, {@link getCachedAttachments};
 * - the pod runtime (go-cni): {@link setup}, {@link remove}, {@link check},
 *   {@link status}, {@link gc}.
 *
 * Every failure is a {@link CniError} carrying the spec's error code.
 *
 * @example Attach a pod to the default network of a conf dir
 * ```ts ignore
 * import { remove, setup } from "./mod.ts";
 *
 * const options = { binDirs: ["/usr/lib/cni"], confDir: "/etc/cni/net.d" };
 * const result = await setup("pod1", "/var/run/netns/pod1", options);
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
export * from "./src/spec/errors.ts";
export * from "./src/spec/version.ts";
export * from "./src/spec/identifiers.ts";
export * from "./src/spec/defaults.ts";
export type * from "./src/spec/types.ts";
export * from "./src/result/parse_result.ts";
export * from "./src/result/convert_result.ts";
export * from "./src/result/result_ips.ts";
export * from "./src/config/parse_network_config.ts";
export * from "./src/config/conf_files.ts";
export * from "./src/config/load_networks.ts";
export type { ExecRequest, PluginExec } from "./src/invoke/exec_plugin.ts";
export { processExec } from "./src/invoke/exec_plugin.ts";
export type { CacheEntry } from "./src/cache/cache_entry.ts";
export * from "./src/engine/engine_options.ts";
export * from "./src/engine/add_network_list.ts";
export * from "./src/engine/check_network_list.ts";
export * from "./src/engine/del_network_list.ts";
export * from "./src/engine/gc_network_list.ts";
export * from "./src/engine/get_status_network_list.ts";
export * from "./src/engine/validate_network_list.ts";
export * from "./src/engine/get_version_info.ts";
export * from "./src/engine/get_cached_result.ts";
export * from "./src/engine/build_plugin_config.ts";
export type { Logger, LoggerOptions, LogLevel } from "./src/log/logger.ts";
export { createLogger } from "./src/log/logger.ts";
export * from "./src/runtime/runtime_options.ts";
export * from "./src/runtime/setup.ts";
export * from "./src/runtime/pod_inputs.ts";
export type { PodIdentity } from "./src/runtime/cni_args.ts";
export type { PortMapping } from "./src/runtime/port_mappings.ts";
export type { Bandwidth } from "./src/runtime/bandwidth.ts";
export * from "./src/runtime/remove.ts";
export * from "./src/runtime/check.ts";
export * from "./src/runtime/status.ts";
export * from "./src/runtime/gc.ts";
