/**
 * Node readiness (go-cni's `Status`, plus the STATUS verb of 1.1.0).
 *
 * @module
 */
import { toCniError } from "../spec/errors.ts";
import { confDirMissing, confNetworks } from "./conf_networks.ts";
import { validateNetworkList } from "../engine/validate_network_list.ts";
import { getStatusNetworkList } from "../engine/get_status_network_list.ts";
import { loopbackNetwork } from "./_loopback.ts";
import {
  resolveRuntimeOptions,
  type RuntimeOptions,
} from "./runtime_options.ts";

/** What {@link status} found. */
export interface StatusReport {
  /** True when a pod can be set up now. */
  ready: boolean;
  /** Why not (empty when ready). */
  reasons: string[];
  /** The default network's name, when there is one. */
  defaultNetwork?: string;
  /** Networks loaded. */
  networks: string[];
  /** Files skipped, with why. */
  skipped: { file: string; reason: string }[];
  /** Whether the loopback plugin is installed. */
  loopback: boolean;
}

/**
 * Reports readiness: a valid default network whose plugins exist and
 * support its version, and whose STATUS (1.1.0) succeeds.
 *
 * @example Is the node ready for pods?
 * ```ts ignore
 * import { status } from "./mod.ts";
 *
 * const report = await status({ binDirs: ["/usr/lib/cni"], confDir: "/etc/cni/net.d" });
 * if (!report.ready) console.log(report.reasons.join("; "));
 * ```
 */
export async function status(
  options: RuntimeOptions = {},
): Promise<StatusReport> {
  const resolved = resolveRuntimeOptions(options);
  const { engine } = resolved;
  const lo = (await loopbackNetwork(engine)) !== undefined;
  const reasons: string[] = [];
  if (resolved.loopback && !lo) {
    reasons.push(`loopback plugin not found in ${engine.binDirs.join(":")}`);
  }
  if (resolved.networkPlugin !== "cni") {
    return {
      ready: reasons.length === 0,
      reasons,
      networks: [],
      skipped: [],
      loopback: lo,
    };
  }
  const loaded = await confNetworks(resolved);
  const report: StatusReport = {
    ready: false,
    reasons,
    networks: loaded.networks.map((n) => n.name),
    skipped: loaded.skipped.map((s) => ({ file: s.file, reason: s.reason })),
    loopback: lo,
  };
  const def = loaded.defaultNetwork;
  if (loaded.confDirMissing) {
    reasons.push(confDirMissing(resolved).message);
  } else if (!def) {
    reasons.push(
      `no valid network config in "${resolved.confDir}"`,
    );
  } else {
    report.defaultNetwork = def.name;
    try {
      await validateNetworkList(def, engine);
      await getStatusNetworkList(def, engine);
    } catch (error) {
      reasons.push(toCniError(error).message);
    }
  }
  report.ready = reasons.length === 0;
  return report;
}
