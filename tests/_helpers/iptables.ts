/**
 * iptables as the CNI plugins leave it: chain names derived per container,
 * the table's lines, and a cleanup of portmap rules no DEL can reach.
 *
 * @module
 */
import { mustSh } from "./shell.ts";

/**
 * The chain names the CNI plugins derive for a container (libcni utils'
 * `MustFormatChainNameWithPrefix`): `CNI-<prefix>` + the hex SHA-512 of
 * network name + container ID, cut to 28 characters. Portmap uses `DN-`,
 * bridge's ipMasq none.
 */
export async function cniChainName(
  network: string,
  containerId: string,
  prefix = "",
): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-512",
    new TextEncoder().encode(network + containerId),
  );
  const hex = [...new Uint8Array(digest)]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
  return `CNI-${prefix}${hex}`.slice(0, 28);
}

/** The lines of `iptables -t <table> -S`. */
export async function iptablesLines(table = "nat"): Promise<string[]> {
  return (await mustSh(["iptables", "-w", "-t", table, "-S"]))
    .split("\n").filter(Boolean);
}

/**
 * Removes portmap's per-pod rules of `containerIds` that no DEL can reach
 * any more (their mappings were lost): the `CNI-HOSTPORT-DNAT` jumps whose
 * comment names one of them, and the `CNI-DN-` chains they jump to. For
 * test cleanup, so a failed test leaves the host's nat table clean too.
 * Returns the chains removed.
 */
export async function purgePortmapRules(
  containerIds: readonly string[],
): Promise<string[]> {
  if (containerIds.length === 0) return [];
  const chains = new Set<string>();
  for (const line of await iptablesLines("nat")) {
    if (!line.startsWith("-A CNI-HOSTPORT-DNAT ")) continue;
    if (!containerIds.some((id) => line.includes(`id: \\"${id}\\"`))) continue;
    const chain = / -j (CNI-DN-[0-9a-f]+)/.exec(line)?.[1];
    if (chain) chains.add(chain);
  }
  if (chains.size === 0) return [];
  // By rule number, last first, so the numbers still to delete hold.
  const listed = await mustSh([
    "iptables",
    "-w",
    "-t",
    "nat",
    "-L",
    "CNI-HOSTPORT-DNAT",
    "--line-numbers",
    "-n",
  ]);
  const numbers = listed.split("\n")
    .map((l) => l.split(/\s+/))
    .filter((w) => chains.has(w[1] ?? ""))
    .map((w) => Number(w[0]))
    .sort((a, b) => b - a);
  for (const n of numbers) {
    await mustSh([
      "iptables",
      "-w",
      "-t",
      "nat",
      "-D",
      "CNI-HOSTPORT-DNAT",
      `${n}`,
    ]);
  }
  for (const chain of chains) {
    await mustSh(["iptables", "-w", "-t", "nat", "-F", chain]);
    await mustSh(["iptables", "-w", "-t", "nat", "-X", chain]);
  }
  return [...chains];
}
