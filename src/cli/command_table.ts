// Pure: no Deno API.
/**
 * Every sub-command in one table: dispatch loads a command from here,
 * `--help` and the man page list it, and `cnishim serve` serves the rows
 * marked `served`. A command's module is imported only when it runs:
 * start-up is paid per pod.
 *
 * @module
 */
import type { Command } from "./context.ts";

/** Every sub-command, in help order. */
export const COMMANDS: readonly Command[] = [
  {
    name: "add",
    args: "<container-id> <netns-path>",
    summary:
      "Set up loopback, the default network and the pod's extra networks; print the result",
    served: true,
    load: async () => (await import("./commands/add.ts")).runAdd,
  },
  {
    name: "del",
    args: "<container-id> [<netns-path>]",
    summary:
      "Tear down every network cached for the container (idempotent; the netns may be gone)",
    served: true,
    load: async () => (await import("./commands/del.ts")).runDel,
  },
  {
    name: "check",
    args: "<container-id> <netns-path>",
    summary: "Run CHECK on every network cached for the container",
    served: true,
    load: async () => (await import("./commands/check.ts")).runCheck,
  },
  {
    name: "status",
    args: "",
    summary: "Report whether pods can be set up now (exit 0 only when ready)",
    served: true,
    load: async () => (await import("./commands/status.ts")).runStatus,
  },
  {
    name: "gc",
    args: "--keep ID... | --all | --force-drop ID...",
    summary:
      "Tear down cached containers not kept, then send GC to 1.1.0 networks; --force-drop drops a container no DEL can clear, naming what may leak",
    served: true,
    load: async () => (await import("./commands/gc.ts")).runGc,
  },
  {
    name: "networks",
    args: "",
    summary:
      "List the networks loaded from the conf dir and the files skipped, with why",
    served: true,
    load: async () => (await import("./commands/networks.ts")).runNetworks,
  },
  {
    name: "result",
    args: "<container-id>",
    summary: "Print the cached results of a container",
    served: true,
    load: async () => (await import("./commands/result.ts")).runResult,
  },
  {
    name: "version",
    args: "",
    summary: "Print the shim version and the CNI versions it speaks",
    served: false,
    bare: true,
    load: async () => (await import("./commands/version.ts")).runVersion,
  },
  {
    name: "hook",
    args: "",
    summary:
      "OCI runtime hook: read the container state on stdin; add on createRuntime/prestart, del on poststop",
    served: true,
    load: async () => (await import("./commands/hook.ts")).runHook,
  },
  {
    name: "serve",
    args: "[--socket PATH] [--no-metrics]",
    summary:
      "Keep the conf dir warm and serve add, del, check, status, gc, networks, result, hook as HTTP+JSON on a unix socket until SIGTERM",
    served: false,
    load: async () => (await import("./commands/serve.ts")).runServe,
  },
  {
    name: "install",
    args: "[--once | --check] [--thick]",
    summary:
      "Copy cnishim into --host-bin-dir (temp file + rename), wait for a primary network in --host-conf-dir, write 00-cnishim.conflist; without --once keep it following the primary until SIGTERM",
    served: false,
    load: async () => (await import("./commands/install.ts")).runInstall,
  },
  {
    name: "uninstall",
    args: "",
    summary:
      "Remove 00-cnishim.conflist, then the files install wrote (those its manifest lists, nothing else)",
    served: false,
    load: async () => (await import("./commands/install.ts")).runUninstall,
  },
  {
    name: "metrics",
    args: "[--socket PATH]",
    summary:
      "Print the metrics of the server on --socket (Prometheus text format, as its GET /metrics)",
    served: false,
    load: async () => (await import("./commands/metrics.ts")).runMetrics,
  },
];

/** The command called `name`, or `undefined`. */
export function findCommand(name: string): Command | undefined {
  return COMMANDS.find((c) => c.name === name);
}
