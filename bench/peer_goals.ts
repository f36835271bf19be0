// Pure: no Deno API.
/**
 * The goals of issue 15, judged on figure 8 (ratios to Go libcni per pod,
 * ADD+DEL, on the real chain) and on the start-up figure (the thin
 * client's own cost).
 *
 * @module
 */
import type { Goal } from "./goals.ts";
import { type SideBySide, SIDES } from "./side_by_side.ts";

/** What the goals of issue 15 are judged on. */
export interface PeerGoalInputs {
  /** Figure 8; undefined without root. */
  sideBySide?: SideBySide | undefined;
  /** The artifact judged (the first that is not the source). */
  shipped: string;
  /** Every artifact timed as a CLI besides the source. */
  builtArtifacts: string[];
  /** Figure 1's `--socket` request running no plugin, over bare deno, ms. */
  socketClientOverBareMs?: number | undefined;
}

/**
 * Judges the goals of issue 15; a goal that could not be measured (no
 * root, no Go) is listed with a null value and not met.
 *
 * @example Usage
 * ```ts ignore
 * const goals = checkPeerGoals({ sideBySide, shipped: "bundle", builtArtifacts: ["bundle"] });
 * ```
 */
export function checkPeerGoals(inputs: PeerGoalInputs): Record<string, Goal> {
  const goals: Record<string, Goal> = {};
  const goal = (
    name: string,
    value: number | null | undefined,
    limit: number,
  ) => {
    goals[name] = {
      value: value ?? null,
      limit,
      met: value !== null && value !== undefined && value <= limit,
    };
  };
  const f = inputs.sideBySide;
  const overGo = (side: string) => f?.sides[side]?.overGo;
  for (const a of inputs.builtArtifacts) {
    goal(
      `CLI (${a}) over Go libcni, ADD+DEL (<= 1.15)`,
      overGo(SIDES.cli(a)),
      1.15,
    );
  }
  goal(
    `--socket client (${inputs.shipped}) over Go libcni, ADD+DEL (<= 1.12)`,
    overGo(SIDES.socket(inputs.shipped)),
    1.12,
  );
  goal(
    "serve over raw HTTP over Go libcni, ADD+DEL (<= 0.97)",
    overGo(SIDES.serve),
    0.97,
  );
  goal(
    "hook through curl over Go libcni, ADD+DEL (<= 1.02)",
    overGo(SIDES.hook),
    1.02,
  );
  goal(
    "serve over the plugins' own time, ADD (ms, <= 1)",
    f?.serveOverPluginsMs.add,
    1,
  );
  goal(
    "serve over the plugins' own time, DEL (ms, <= 1)",
    f?.serveOverPluginsMs.del,
    1,
  );
  goal(
    "3-network pod through serve over its chains run concurrently, ADD+DEL (<= 1.15)",
    f?.threeNetworks.ratio,
    1.15,
  );
  goal(
    `--socket client (${inputs.shipped}) over bare deno run (ms, <= 2)`,
    inputs.socketClientOverBareMs,
    2,
  );
  return goals;
}
