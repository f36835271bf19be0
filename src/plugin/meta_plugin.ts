/**
 * The multi-NIC meta plugin (`type` `dockin-cni` or `cnishim-multinet`):
 * Dockin CNI's behaviour — ask the backend for a pod's networks, delegate
 * each to its network config with a static address, return the master's
 * result — with what Dockin lacks: validation before any change, a record
 * written before the first delegate, rollback, and DEL/CHECK/GC driven by
 * that record so they work with the backend down.
 *
 * @module
 */
import {
  AggregateCniError,
  CNI_ERROR_CODES,
  CniError,
  errorText,
  toCniError,
} from "../spec/errors.ts";
import type {
  CniArg,
  CniResult,
  JsonObject,
  RuntimeConf,
} from "../spec/types.ts";
import { supportsCheck } from "../spec/version.ts";
import { validateContainerId } from "../spec/identifiers.ts";
import { createLogger, type Logger } from "../log/logger.ts";
import { convertResult } from "../result/convert_result.ts";
import { resultIps } from "../result/result_ips.ts";
import { lockContainer, lockForGc } from "../cache/container_lock.ts";
import { joinPath } from "../spec/posix_path.ts";
import type { EngineOptions } from "../engine/engine_options.ts";
import { addNetworkList } from "../engine/add_network_list.ts";
import { delNetworkList } from "../engine/del_network_list.ts";
import { checkNetworkList } from "../engine/check_network_list.ts";
import { loadArgs, type PluginCall } from "./_skel.ts";
import { type MetaConfig, parseMetaConfig } from "./meta_config.ts";
import {
  askBackend,
  type BackendAnswer,
  probeBackend,
} from "./meta_backend.ts";
import {
  buildDelegates,
  type Delegate,
  delegateList,
  findDelegatePlugins,
} from "./meta_delegates.ts";
import {
  listRecords,
  type MetaRecord,
  quarantineRecord,
  readListedRecord,
  readRecord,
  RECORD_KIND,
  type RecordKey,
  recordKey,
  recordPath,
  removeRecord,
  writeRecord,
} from "./meta_record.ts";
import { isJsonObject } from "../spec/json.ts";

/** The pod as `CNI_ARGS` names it. */
interface PodArgs {
  name: string;
  namespace: string;
  infraContainerId: string;
}

interface Context {
  call: PluginCall;
  config: MetaConfig;
  log: Logger;
  engine: EngineOptions;
}

// Dockin's: libcni's LoadArgs into its struct. Runtimes send
// IgnoreUnknown=1 beside keys it does not know; without it, those fail.
function podArgs(cniArgs: string): PodArgs {
  const pairs = loadArgs(cniArgs, [
    "IP",
    "K8S_POD_NAME",
    "K8S_POD_NAMESPACE",
    "K8S_POD_INFRA_CONTAINER_ID",
  ]);
  return {
    name: pairs.get("K8S_POD_NAME") ?? "",
    namespace: pairs.get("K8S_POD_NAMESPACE") ?? "",
    infraContainerId: pairs.get("K8S_POD_INFRA_CONTAINER_ID") ?? "",
  };
}

// What Dockin hands each delegate: the runtime's other keys are dropped.
function delegateArgs(
  record: Pick<MetaRecord, "podName" | "podNamespace" | "infraContainerId">,
): CniArg[] {
  const infra = record.infraContainerId;
  const args: CniArg[] = [["IgnoreUnknown", "true"]];
  if (record.podNamespace) {
    args.push(["K8S_POD_NAMESPACE", record.podNamespace]);
  }
  if (record.podName) args.push(["K8S_POD_NAME", record.podName]);
  if (infra) args.push(["K8S_POD_INFRA_CONTAINER_ID", infra]);
  return args;
}

// Our own lock files: a runtime using the same cache dir (cnishim's CLI
// with --cni-cache-dir set to it) holds its own lock on the container while
// it runs us, and the same file would deadlock.
function lockDir(config: MetaConfig): string {
  return joinPath(config.cacheDir, "multinet");
}

function context(call: PluginCall): Context {
  const config = parseMetaConfig(call.config);
  const log = createLogger({ level: config.logLevel, file: config.logFile });
  for (const warning of config.warnings) log.warn(warning);
  const binDirs = [config.binDir, ...call.path.split(":")]
    .filter((d, i, all) => d !== "" && all.indexOf(d) === i);
  const engine: EngineOptions = {
    binDirs,
    cacheDir: config.cacheDir,
    env: call.env,
  };
  if (config.pluginTimeoutMs !== undefined) {
    engine.timeoutMs = config.pluginTimeoutMs;
    engine.delTimeoutMs = config.pluginTimeoutMs;
  }
  return { call, config, log, engine };
}

/**
 * Runs one call of the meta plugin after skel's checks.
 *
 * @returns the ADD result, `undefined` for the other verbs
 * @throws {CniError} with the code of the first failure
 */
export async function runMetaPlugin(
  call: PluginCall,
): Promise<CniResult | undefined> {
  const ctx = context(call);
  const fields = {
    command: call.command,
    containerId: call.containerId,
    req: crypto.randomUUID(),
  };
  ctx.log.debug("called", { ...fields, netns: call.netns, args: call.args });
  try {
    switch (call.command) {
      case "ADD":
        return await add(ctx);
      case "DEL":
        await del(ctx);
        return undefined;
      case "CHECK":
        await check(ctx);
        return undefined;
      case "STATUS":
        await probeBackend(ctx.config.backend, ctx.config.backendTimeoutMs);
        return undefined;
      case "GC":
        await gc(ctx);
        return undefined;
      default:
        return undefined;
    }
  } catch (error) {
    const err = toCniError(error);
    ctx.log.error(err.message, { ...fields, code: err.code });
    throw err;
  } finally {
    ctx.log.debug("done", fields);
  }
}

function delegateRt(
  record: MetaRecord,
  ifName: string,
  netns: string,
): RuntimeConf {
  return {
    containerId: record.containerId,
    netns,
    ifName,
    args: delegateArgs(record),
  };
}

/** The record of what the backend's answer makes us do, delegates built. */
async function planRecord(
  ctx: Context,
  pod: PodArgs,
  answer: BackendAnswer,
  state: "pending" | "added",
): Promise<{ record: MetaRecord; delegates: Delegate[] }> {
  const { call, config, log } = ctx;
  const delegates = await buildDelegates(answer.networks, {
    confDir: config.confDir,
    ipamType: config.ipamType,
    log,
  });
  const record: MetaRecord = {
    kind: RECORD_KIND,
    containerId: call.containerId,
    netns: call.netns,
    runtimeIfName: call.ifName,
    networkName: config.name,
    podName: pod.name!,
    ...(pod.namespace ? { podNamespace: pod.namespace } : {}),
    ...(pod.infraContainerId ? { infraContainerId: pod.infraContainerId } : {}),
    backend: config.backend!,
    ...(answer.reqId ? { backendReqId: answer.reqId } : {}),
    createdAt: new Date().toISOString(),
    delegates: answer.networks.map((n, i) => ({
      netName: n.type,
      ifName: n.ifName,
      master: n.master,
      confFile: delegates[i]!.confFile,
      config: delegates[i]!.config,
      state,
    })),
  };
  return { record, delegates };
}

// The record this call is about: the spec keys a plugin's state by network
// name, container ID and interface, so two meta networks on a pod keep two.
function attachmentOf(ctx: Context): RecordKey {
  return {
    networkName: ctx.config.name,
    containerId: ctx.call.containerId,
    ifName: ctx.call.ifName,
  };
}

async function add(ctx: Context): Promise<CniResult> {
  const { call, config, log } = ctx;
  validateContainerId(call.containerId);
  const pod = podArgs(call.args);
  if (!pod.name) {
    throw new CniError(
      CNI_ERROR_CODES.invalidEnvironmentVariables,
      "Cannot ask the backend for the pod's networks: CNI_ARGS has no K8S_POD_NAME",
      { details: `CNI_ARGS=${call.args}` },
    );
  }
  if (!config.backend) {
    throw new CniError(
      CNI_ERROR_CODES.invalidNetworkConfig,
      `Invalid ${call.config.type} config: "backend" is missing`,
    );
  }
  await using _lock = await lockContainer(lockDir(config), call.containerId);
  const previous = await readRecord(config.cacheDir, attachmentOf(ctx));
  if (previous.kind !== "missing") {
    // A retried ADD: what the earlier one left must go first, or the
    // delegates fail on interfaces that already exist.
    log.info(
      "a record exists for this container; deleting its delegates first",
    );
    await teardown(ctx, previous);
  }
  const answer = await askBackend(
    config.backend,
    pod.name,
    config.backendTimeoutMs,
  );
  log.info("backend answered", {
    pod: pod.name,
    reqId: answer.reqId,
    networks: answer.networks,
  });
  const { record, delegates } = await planRecord(
    ctx,
    pod,
    answer,
    "pending",
  );
  // A missing binary would fail the first delegate that needs it, after
  // the record was written and earlier delegates ran.
  await findDelegatePlugins(delegates, ctx.engine.binDirs ?? []);
  await writeRecord(config.cacheDir, record);
  let master: CniResult | undefined;
  for (const [i, delegate] of delegates.entries()) {
    const entry = record.delegates[i]!;
    try {
      entry.state = "adding";
      await writeRecord(config.cacheDir, record);
      const result = await addNetworkList(
        delegate.list,
        delegateRt(record, entry.ifName, call.netns),
        ctx.engine,
      );
      entry.state = "added";
      entry.result = result;
      await writeRecord(config.cacheDir, record);
      if (entry.master) master = result;
      log.info("delegate added", {
        ifName: entry.ifName,
        network: entry.netName,
      });
    } catch (error) {
      throw await rollBack(ctx, record, error);
    }
  }
  return convertResult(master!, config.cniVersion);
}

// DEL of every delegate that started, in reverse; the record goes only when
// all of them are gone, so a failed rollback is retried by the runtime's DEL.
async function rollBack(
  ctx: Context,
  record: MetaRecord,
  error: unknown,
): Promise<CniError> {
  const original = toCniError(error);
  ctx.log.error("ADD failed; rolling back", { error: original.message });
  const failures = await delDelegates(ctx, record, ctx.call.netns);
  if (failures.length === 0) {
    await removeRecord(recordPath(ctx.config.cacheDir, recordKey(record)));
    return original;
  }
  return new AggregateCniError(
    "ADD failed and its rollback failed too (the record is kept for DEL)",
    [original, ...failures],
  );
}

async function delDelegates(
  ctx: Context,
  record: MetaRecord,
  netns: string,
): Promise<CniError[]> {
  const failures: CniError[] = [];
  for (const entry of [...record.delegates].reverse()) {
    if (entry.state === "pending") continue;
    try {
      const list = await delegateList(entry.config, entry.confFile);
      await delNetworkList(
        list,
        delegateRt(record, entry.ifName, netns),
        ctx.engine,
      );
      ctx.log.info("delegate deleted", {
        ifName: entry.ifName,
        network: entry.netName,
      });
    } catch (error) {
      const err = toCniError(error);
      ctx.log.error("delegate DEL failed", {
        ifName: entry.ifName,
        network: entry.netName,
        error: err.message,
      });
      failures.push(err);
    }
  }
  return failures;
}

// DEL from whatever the record read found; missing netns is normal.
async function teardown(
  ctx: Context,
  read: Awaited<ReturnType<typeof readRecord>>,
): Promise<void> {
  if (read.kind === "ok") {
    const failures = await delDelegates(ctx, read.record, ctx.call.netns);
    if (failures.length) {
      throw new AggregateCniError(
        `DEL failed for ${failures.length} of ${read.record.delegates.length} delegates (the record is kept for a retry)`,
        failures,
      );
    }
    await removeRecord(read.path);
    return;
  }
  if (read.kind === "corrupt") {
    const moved = await quarantineRecord(read.path);
    ctx.log.error("corrupt record quarantined", { reason: read.reason, moved });
  }
  await delFromBackend(ctx);
}

// Without a record nothing is known for sure: ask the backend, best effort,
// and never fail (a sandbox must not get stuck; Multus #586/#1498).
async function delFromBackend(ctx: Context): Promise<void> {
  const { call, config, log } = ctx;
  let pod: PodArgs;
  try {
    pod = podArgs(call.args);
  } catch (error) {
    log.info("CNI_ARGS unreadable: nothing to delete", {
      error: errorText(error),
    });
    return;
  }
  if (!pod.name || !config.backend) {
    log.info("no record and no pod name or backend: nothing to delete");
    return;
  }
  let record: MetaRecord;
  try {
    const answer = await askBackend(
      config.backend,
      pod.name,
      config.backendTimeoutMs,
    );
    ({ record } = await planRecord(ctx, pod, answer, "added"));
  } catch (error) {
    log.info("no record and the backend cannot say; DEL succeeds", {
      error: errorText(error),
    });
    return;
  }
  const failures = await delDelegates(ctx, record, call.netns);
  if (failures.length) {
    log.error("best-effort DEL without a record left errors", {
      errors: failures.map((f) => f.message),
    });
  }
}

async function del(ctx: Context): Promise<void> {
  validateContainerId(ctx.call.containerId);
  await using lock = await lockContainer(
    lockDir(ctx.config),
    ctx.call.containerId,
  );
  await teardown(ctx, await readRecord(ctx.config.cacheDir, attachmentOf(ctx)));
  lock.removeOnRelease();
}

async function check(ctx: Context): Promise<void> {
  const { call, config, log } = ctx;
  validateContainerId(call.containerId);
  await using _lock = await lockContainer(lockDir(config), call.containerId);
  const read = await readRecord(config.cacheDir, attachmentOf(ctx));
  if (read.kind !== "ok") {
    throw new CniError(
      CNI_ERROR_CODES.unknownContainer,
      read.kind === "missing"
        ? `Cannot CHECK container ${call.containerId}: no record in ${config.cacheDir}`
        : `Cannot CHECK container ${call.containerId}: its record is corrupt (${read.reason})`,
    );
  }
  comparePrevResult(ctx, read.record);
  for (const entry of read.record.delegates) {
    if (entry.state !== "added") {
      throw new CniError(
        CNI_ERROR_CODES.unknownContainer,
        `Cannot CHECK ${entry.ifName}: its ADD did not complete`,
      );
    }
    const list = await delegateList(entry.config, entry.confFile);
    if (!supportsCheck(list.cniVersion)) {
      log.info("delegate too old for CHECK; skipped", {
        ifName: entry.ifName,
        cniVersion: list.cniVersion,
      });
      continue;
    }
    await checkNetworkList(
      list,
      delegateRt(read.record, entry.ifName, call.netns),
      ctx.engine,
    );
  }
}

// The runtime's prevResult is what our ADD returned: the master's result.
// Its addresses must still be the recorded ones, or the runtime and the
// record disagree about this attachment (the spec's CHECK of prevResult).
function comparePrevResult(ctx: Context, record: MetaRecord): void {
  const prev = ctx.call.config.prevResult;
  if (prev === undefined || prev === null) {
    ctx.log.info("CHECK without prevResult: only the delegates are checked");
    return;
  }
  const master = record.delegates.find((d) => d.master)?.result;
  if (!master) return;
  const addresses = (r: CniResult) =>
    resultIps(r).map((ip) => ip.address).sort().join(", ");
  const got = isJsonObject(prev) ? addresses(prev as CniResult) : "";
  const want = addresses(master);
  if (got !== want) {
    throw new CniError(
      CNI_ERROR_CODES.invalidNetworkConfig,
      `CHECK of container ${record.containerId}: prevResult does not match the ADD result recorded in ${ctx.config.cacheDir}`,
      { details: `prevResult IPs [${got}], recorded [${want}]` },
    );
  }
}

async function gc(ctx: Context): Promise<void> {
  const { call, config, log } = ctx;
  const raw = call.config["cni.dev/valid-attachments"] ??
    call.config["cni.dev/attachments"];
  const valid = new Set(
    (Array.isArray(raw) ? raw as JsonObject[] : []).map((a) =>
      `${a?.containerID}\0${a?.ifname}`
    ),
  );
  await using _lock = await lockForGc(lockDir(config));
  const failures: CniError[] = [];
  for (const path of await listRecords(config.cacheDir)) {
    let read;
    try {
      read = await readListedRecord(path);
    } catch (error) {
      log.error("unreadable record skipped by GC", {
        path,
        error: errorText(error),
      });
      continue;
    }
    if (read.kind === "corrupt") {
      await quarantineRecord(read.path);
      log.error("corrupt record quarantined by GC", {
        path,
        reason: read.reason,
      });
      continue;
    }
    if (read.kind !== "ok") continue;
    const r = read.record;
    if (r.networkName !== config.name) continue;
    if (valid.has(`${r.containerId}\0${r.runtimeIfName}`)) continue;
    const stale = await delDelegates(ctx, r, r.netns);
    if (stale.length) failures.push(...stale);
    else {
      await removeRecord(read.path);
      log.info("stale attachment removed by GC", {
        containerId: r.containerId,
      });
    }
  }
  if (failures.length) {
    throw new AggregateCniError(
      "GC could not remove every stale attachment",
      failures,
    );
  }
}
