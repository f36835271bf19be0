/**
 * `cnishim metrics [--socket PATH]`: the metrics of a running
 * `cnishim serve`, exactly as its `GET /metrics` answers them.
 *
 * @module
 */
import { fetchMetrics } from "../../serve/client.ts";
import { checkSocketPath, DEFAULT_SOCKET } from "../../serve/protocol.ts";
import {
  type CommandContext,
  type CommandOutput,
  expectArgs,
  stringFlag,
} from "../context.ts";

/** Prints the server's metrics text. */
export async function runMetrics(ctx: CommandContext): Promise<CommandOutput> {
  expectArgs(ctx, 0, 0, "metrics [--socket PATH]");
  const socket = stringFlag(ctx, "socket") ?? DEFAULT_SOCKET;
  checkSocketPath(socket);
  return { stdout: await fetchMetrics(socket) };
}
