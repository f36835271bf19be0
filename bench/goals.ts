// Pure: no Deno API.
/**
 * The performance goals of issue 6, judged against floors measured in the
 * same run (the machine is noisy; only ratios and differences to a floor
 * of the same run mean anything).
 *
 * @module
 */
import { round } from "./_harness.ts";
import type { Startup } from "./startup.ts";
import type { ServeFigure } from "./serve.ts";
import type { MultiNetwork } from "./multi_network.ts";

/** One goal: the measured value, its limit, and whether it is met. */
export interface Goal {
  /** The value; `null` when it was not measured (no root, no artifact). */
  value: number | null;
  /** The limit. */
  limit: number;
  /** `value <= limit`. */
  met: boolean;
}

/** What the goals are judged on. */
export interface GoalInputs {
  /** Figure 1. */
  startup: Startup;
  /** The artifact judged (the first that is not the source). */
  shipped: string;
  /** Figure 7. */
  serve: ServeFigure;
  /** Figure 4, when measured. */
  multiNetwork?: MultiNetwork | undefined;
}

/**
 * Judges the goals.
 *
 * @example Usage
 * ```ts ignore
 * const goals = checkGoals({ startup, shipped: "bundle", serve });
 * ```
 */
export function checkGoals(inputs: GoalInputs): Record<string, Goal> {
  const goals: Record<string, Goal> = {};
  const goal = (name: string, value: number | undefined, limit: number) => {
    goals[name] = {
      value: value ?? null,
      limit: round(limit),
      met: value !== undefined && value <= limit,
    };
  };
  const { shipped } = inputs;
  const row = inputs.startup.artifacts[shipped];
  const bare = inputs.startup.bare.median;
  goal(
    `add overhead over its plugins, ${shipped} (ms, <= bare deno + 5)`,
    row?.addOverheadMs,
    bare + 5,
  );
  goal(
    `add overhead over its plugins, ${shipped} --socket client (ms, <= bare deno + 5)`,
    row?.addViaSocketOverheadMs,
    bare + 5,
  );
  goal(
    `--socket client process alone over bare deno, ${shipped} (ms, <= 5)`,
    row?.socketClientOverBareMs,
    5,
  );
  const sv = inputs.serve;
  goal(
    "serve transport alone: a request running no plugin (ms, <= 2)",
    sv.roundTripNoPlugins.median,
    2,
  );
  goal("serve request overhead, ADD (ms, <= 2)", sv.addOverheadMs, 2);
  goal("serve request overhead, DEL (ms, <= 2)", sv.delOverheadMs, 2);
  const mn = inputs.multiNetwork;
  goal(
    "3-network pod over the slowest single network, CLI (<= 1.2)",
    mn?.parallelOverSlowest,
    1.2,
  );
  goal(
    "3-network pod over the slowest single network, serve (<= 1.2)",
    mn?.serveParallelOverSlowest,
    1.2,
  );
  return goals;
}
