/**
 * What the command-line tests share: fake plugins behind a conf dir and
 * a shim config, and a readable form of their call log.
 *
 * @module
 */
import { join } from "node:path";
import type { FakeCall, FakePlugins } from "../_helpers/fake_plugins.ts";

// Fake plugins never enter it, but setup refuses a path that is no netns.
export const NETNS = "/proc/self/ns/net";

/** A network of a test conf dir: its name and its plugins. */
export interface NetSpec {
  name: string;
  plugins: Record<string, unknown>[];
}

/** A conf dir and an empty shim config beside the fake plugins. */
export async function confFor(
  fake: FakePlugins,
  networks: NetSpec[],
): Promise<{ conf: string; config: string; flags: string[] }> {
  const conf = await fake.writeConfDir(
    Object.fromEntries(
      networks.map((net, i) => [
        `${10 + i}-${net.name}.conflist`,
        { cniVersion: "1.0.0", ...net },
      ]),
    ),
  );
  const config = join(fake.root, "config.json");
  await Deno.writeTextFile(config, "{}");
  return {
    conf,
    config,
    flags: fake.cliFlags(conf, config),
  };
}

/** Plugin objects of the given types. */
export function plugins(...types: string[]): Record<string, unknown>[] {
  return types.map((type) => ({ type }));
}

/** `type COMMAND ifname` per call, the readable form of a call log. */
export function trace(calls: FakeCall[]): string[] {
  return calls.map((c) => `${c.type} ${c.command} ${c.env.CNI_IFNAME ?? ""}`);
}
