/**
 * Setting up a pod's networks (go-cni's `Setup`/`SetupSerially`): loopback,
 * the default network and the extras the annotations ask for, undone
 * completely when any of them fails.
 *
 * @module
 */
import {
  AggregateCniError,
  CNI_ERROR_CODES,
  CniError,
  toCniError,
} from "../spec/errors.ts";
import { validateContainerId, validateIfName } from "../spec/identifiers.ts";
import type { CniResult, NetworkConfigList } from "../spec/types.ts";
import { noValidNetwork, requireConfNetworks } from "./conf_networks.ts";
import { lockContainer } from "../cache/container_lock.ts";
import { readCacheEntries } from "../cache/result_cache.ts";
import { joinPath } from "../spec/posix_path.ts";
import { addNetworkList } from "../engine/add_network_list.ts";
import { validateAttachment } from "../engine/validate_attachment.ts";
import { primaryIp, type ResultIp, resultIps } from "../result/result_ips.ts";
import {
  type Attachment,
  readPodRecord,
  recordedKeys,
  writePodRecord,
} from "./pod_record.ts";
import { loopbackNetwork } from "./_loopback.ts";
import { attachmentKey, teardown } from "./_teardown.ts";
import { settleDeadHolder } from "./_orphans.ts";
import { validateNetns } from "./_netns.ts";
import {
  type ExtraNetwork,
  type PodInputs,
  translatePodInputs,
} from "./pod_inputs.ts";
import {
  type ResolvedRuntimeOptions,
  resolveRuntimeOptions,
  type RuntimeOptions,
} from "./runtime_options.ts";
import { DEFAULT_IFNAME } from "../spec/defaults.ts";
import type { Logger } from "../log/logger.ts";
import { ignoredAnnotationKeys, parseAnnotations } from "./pod_annotations.ts";

/** Options of {@link setup}: the runtime's, and the pod's inputs. */
export interface SetupOptions extends RuntimeOptions, PodInputs {
  /**
   * The interface of the default network.
   * @default {"eth0"}
   */
  ifName?: string;
}

/** One attached network. */
export interface AttachedNetwork {
  /** The network name. */
  name: string;
  /** The interface in the pod. */
  interface: string;
  /** The result its last plugin returned. */
  result: CniResult;
}

/** What {@link setup} returns. */
export interface SetupResult {
  /** The CNI networks in attach order (default first); loopback not listed. */
  networks: AttachedNetwork[];
  /** Every IP of every network. */
  ips: (ResultIp & { network: string })[];
  /** The first IPv4 of the default interface, else its first IP. */
  primaryIP?: string;
  /** Whether `lo` was brought up by the loopback plugin. */
  loopback: boolean;
}

interface Planned {
  list: NetworkConfigList;
  ifName: string;
  isLoopback: boolean;
}

/**
 * Attaches a pod to its networks. Parallel unless `serial`; when any
 * network fails, everything already attached is torn down (reverse order)
 * before the error is thrown, so nothing is left behind. A container that
 * is already set up (it has cache entries) is refused before anything runs,
 * and so are bad pod inputs and a `netns` that is not a network namespace
 * (an nsfs mount or `/proc/<pid>/ns/net`).
 *
 * @example Attach a pod, then tear it down
 * ```ts ignore
 * import { remove, setup } from "./mod.ts";
 *
 * const options = { binDirs: ["/usr/lib/cni"], confDir: "/etc/cni/net.d" };
 * const result = await setup("pod1", "/var/run/netns/pod1", {
 *   ...options,
 *   pod: { name: "web-0", namespace: "prod", uid: "6f1c" },
 *   portMappings: [{ hostPort: 8080, containerPort: 80, protocol: "tcp" }],
 * });
 * console.log(result.primaryIP, result.ips.map((ip) => ip.address));
 * await remove("pod1", "/var/run/netns/pod1", options);
 * ```
 * @throws {CniError} code 4 for a container already set up, code 8 for a
 * netns path that is not a network namespace, code 7 for an unknown network
 * or a bad input, or the failing plugin's
 */
export async function setup(
  containerId: string,
  netns: string,
  options: SetupOptions = {},
): Promise<SetupResult> {
  validateContainerId(containerId);
  const ifName = options.ifName ?? DEFAULT_IFNAME;
  validateIfName(ifName);
  if (!netns) {
    throw new CniError(
      CNI_ERROR_CODES.invalidEnvironmentVariables,
      "Cannot set up a pod without a network namespace path",
    );
  }
  await validateNetns(netns);
  const inputs = translatePodInputs(containerId, ifName, options);
  const resolved = resolveRuntimeOptions(options);
  const { engine, logger: log } = resolved;
  logIgnoredAnnotationKeys(options, log);
  const plan = await planNetworks(
    ifName,
    inputs.defaultNetwork,
    inputs.extraNetworks,
    resolved,
  );
  // Every attachment's names are checked before the first one runs.
  for (const p of plan) {
    validateAttachment(p.list.name, { containerId, netns, ifName: p.ifName });
  }
  // A missing binary fails the pod before anything runs or is written, not
  // after loopback and the networks before it were attached (and undone).
  for (const p of plan) {
    for (const plugin of p.list.plugins) {
      await engine.findPlugin(plugin.type);
    }
  }

  await using lock = await lockContainer(engine.cacheDir, containerId);
  await settleDeadHolder(lock, containerId, log, engine.cacheDir);
  const attachments = plan.map((p) => ({
    network: p.list.name,
    ifName: p.ifName,
  }));
  await refuseIfSetUp(containerId, engine.cacheDir, attachments);
  // The record is no write-ahead record (each network's fsync'd cache entry
  // is, and teardown works from those alone), so it is written while the
  // first entries are written and the first plugins run, not before them.
  const recorded = writePodRecord(engine.cacheDir, {
    containerId,
    netns,
    attachments,
    args: inputs.args,
    capabilityArgs: inputs.capabilityArgs,
  }).then(() => undefined, (error: unknown) => toCniError(error));
  const rt = (p: Planned) => ({
    containerId,
    netns,
    ifName: p.ifName,
    args: inputs.args,
    capabilityArgs: inputs.capabilityArgs,
  });
  const attach = async (p: Planned) => {
    log.debug("attaching network", { network: p.list.name, ifName: p.ifName });
    return await addNetworkList(p.list, rt(p), engine);
  };

  const settled: PromiseSettledResult<CniResult>[] = [];
  if (resolved.serial) {
    for (const p of plan) {
      try {
        settled.push({ status: "fulfilled", value: await attach(p) });
      } catch (reason) {
        settled.push({ status: "rejected", reason });
        break;
      }
    }
  } else {
    settled.push(...await Promise.allSettled(plan.map(attach)));
  }
  // Settled before any teardown, which would otherwise race the write and
  // could leave a record behind for a pod that is gone.
  const recordError = await recorded;
  const failed = settled.flatMap((s, i) =>
    s.status === "rejected"
      ? [{ p: plan[i]!, error: toCniError(s.reason) }]
      : []
  );
  if (failed.length || recordError) {
    const error = failed[0]?.error ?? recordError!;
    // The error itself is the caller's to report (the CLI prints it once).
    log.info("setup failed, tearing down", {
      containerId,
      error: error.message,
    });
    // A network whose ADD failed was rolled back by addNetworkList already:
    // a second DEL would repeat a failed rollback and its message.
    const { failures: undo, leftForRetry } = await teardown(
      containerId,
      netns,
      resolved,
      {
        skip: new Set(
          failed.map((f) => attachmentKey(f.p.list.name, f.p.ifName)),
        ),
        cachedOnly: true,
      },
    );
    // Other networks whose rollback failed in parallel: each once (their
    // entries stay for DEL); an ADD failure rolled back cleanly is not news.
    const more = failed.slice(1).map((f) => f.error)
      .filter((e) => e instanceof AggregateCniError);
    if (!leftForRetry && !undo.length) lock.removeOnRelease();
    if (undo.length || more.length) {
      throw new AggregateCniError(
        `Setup of container "${containerId}" failed${
          undo.length ? " and its teardown failed too" : ""
        }`,
        [error, ...more, ...undo],
      );
    }
    throw error;
  }

  const networks: AttachedNetwork[] = [];
  plan.forEach((p, i) => {
    const s = settled[i] as PromiseFulfilledResult<CniResult>;
    if (!p.isLoopback) {
      networks.push({
        name: p.list.name,
        interface: p.ifName,
        result: s.value,
      });
    }
  });
  const ips = networks.flatMap((n) =>
    resultIps(n.result).map((ip) => ({ ...ip, network: n.name }))
  );
  const main = networks.find((n) => n.interface === ifName);
  const primary = main ? primaryIp(main.result, ifName) : undefined;
  return {
    networks,
    ips,
    ...(primary ? { primaryIP: primary } : {}),
    loopback: plan.some((p) => p.isLoopback),
  };
}

// The spec forbids a second ADD of an attachment without a DEL between;
// libcni runs it anyway, the plugins fail on what exists, and the rollback
// would tear the pod's working network down. Refused before anything runs.
// Not from a scan of the results directory, which would cost every pod as
// much as the node has pods: a setup leaves its record, and the planned
// attachments' entries sit at known names.
async function refuseIfSetUp(
  containerId: string,
  cacheDir: string,
  planned: readonly Attachment[],
): Promise<void> {
  const [record, { entries, unreadable, legacy }] = await Promise.all([
    readPodRecord(cacheDir, containerId),
    readCacheEntries(cacheDir, recordedKeys(containerId, planned)),
  ]);
  const found = record
    ? record.attachments.map((a) => `${a.network}/${a.ifName}`)
    : [...entries, ...unreadable, ...legacy].map((k) =>
      `${k.networkName}/${k.ifName}`
    );
  if (found.length === 0) return;
  throw new CniError(
    CNI_ERROR_CODES.invalidEnvironmentVariables,
    `Container "${containerId}" is already set up (${
      found.join(", ")
    }): remove it before setting it up again`,
    { details: `cache entries in ${joinPath(cacheDir, "results")}` },
  );
}

async function planNetworks(
  ifName: string,
  attachDefault: boolean,
  extras: readonly ExtraNetwork[],
  options: ResolvedRuntimeOptions,
): Promise<Planned[]> {
  const plan: Planned[] = [];
  if (options.loopback) {
    const lo = await loopbackNetwork(options.engine);
    if (lo) plan.push({ list: lo, ifName: "lo", isLoopback: true });
  }
  if (options.networkPlugin !== "cni") return plan;
  const dir = options.confDir;
  const loaded = await requireConfNetworks(
    options,
    extras.map((e) => e.name),
  );
  const byName = new Map(loaded.networks.map((n) => [n.name, n]));
  for (const extra of extras) {
    if (!byName.has(extra.name)) {
      throw new CniError(
        CNI_ERROR_CODES.invalidNetworkConfig,
        `Cannot attach network "${extra.name}": no valid network of that name in "${dir}"`,
      );
    }
  }
  // An extra network on the default interface replaces the default (iSulad).
  if (attachDefault && !extras.some((e) => e.ifName === ifName)) {
    const def = loaded.defaultNetwork;
    if (!def) throw noValidNetwork(options, loaded.skipped);
    plan.push({ list: def, ifName, isLoopback: false });
  }
  for (const extra of extras) {
    plan.push({
      list: byName.get(extra.name)!,
      ifName: extra.ifName,
      isLoopback: false,
    });
  }
  const seen = new Set<string>();
  for (const p of plan) {
    if (seen.has(p.ifName)) {
      throw new CniError(
        CNI_ERROR_CODES.invalidNetworkConfig,
        `Cannot attach two networks to interface "${p.ifName}"`,
      );
    }
    seen.add(p.ifName);
  }
  return plan;
}

// iSulad ignores its annotation entries' unknown keys; so does cnishim, at
// debug. Called after translatePodInputs, which validated the annotations.
function logIgnoredAnnotationKeys(options: SetupOptions, log: Logger): void {
  if (options.annotations === undefined) return;
  const ignored = ignoredAnnotationKeys(
    parseAnnotations(options.annotations, "annotations"),
  );
  if (ignored.length) log.debug("annotation keys ignored", { ignored });
}
