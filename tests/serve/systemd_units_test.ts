/**
 * The systemd units the .deb ships (packaging/systemd): what they say, and
 * that systemd's own verifier accepts them without a warning.
 *
 * @module
 */
import { deepEqual, equal } from "node:assert/strict";
import { join } from "node:path";
import { REPO_ROOT } from "../_helpers/run_cli.ts";
import { ignoreWithout, requirePart } from "../_helpers/prerequisites.ts";

const UNITS = join(REPO_ROOT, "packaging/systemd");
const ANALYZE = "/usr/bin/systemd-analyze";

/** `Key=value` lines of one section (repeated keys in order). */
async function section(
  unit: string,
  name: string,
): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  let inside = false;
  for (const raw of (await Deno.readTextFile(join(UNITS, unit))).split("\n")) {
    const line = raw.trim();
    if (line.startsWith("[")) inside = line === `[${name}]`;
    else if (inside && line && !line.startsWith("#")) {
      const i = line.indexOf("=");
      const key = line.slice(0, i), value = line.slice(i + 1);
      out.set(key, [...(out.get(key) ?? []), value]);
    }
  }
  return out;
}

Deno.test("cnishim.socket listens where serve does, 0660; cnishim.service runs serve and restarts on failure", async () => {
  const socket = await section("cnishim.socket", "Socket");
  deepEqual(socket.get("ListenStream"), ["/run/cnishim/cnishim.sock"]);
  deepEqual(socket.get("SocketMode"), ["0660"]);
  const service = await section("cnishim.service", "Service");
  deepEqual(service.get("ExecStart"), ["/usr/bin/cnishim serve"]);
  deepEqual(service.get("Restart"), ["on-failure"]);
  // No option that gives the service its own mount namespace: netns bind
  // mounts under /run/netns must be shared with the host.
  for (
    const key of [
      "ProtectSystem",
      "ProtectHome",
      "PrivateTmp",
      "PrivateDevices",
      "ProtectControlGroups",
      "ProtectKernelLogs",
      "ProtectKernelTunables",
      "ProtectKernelModules",
      "ReadWritePaths",
      "ReadOnlyPaths",
      "InaccessiblePaths",
      "MemoryDenyWriteExecute",
      "CapabilityBoundingSet",
    ]
  ) {
    equal(service.get(key), undefined, key);
  }
  const unit = await section("cnishim.service", "Unit");
  deepEqual(unit.get("Requires"), ["cnishim.socket"]);
});

Deno.test({
  name: "systemd-analyze verify accepts both units without a warning",
  ignore: ignoreWithout(ANALYZE),
  async fn() {
    await requirePart(ANALYZE);
    const dir = await Deno.makeTempDir({ prefix: "cnishim-units-" });
    try {
      // The verifier checks that ExecStart's binary exists: a stand-in
      // for /usr/bin/cnishim, everything else as shipped.
      const bin = join(dir, "cnishim");
      await Deno.writeTextFile(bin, "#!/bin/sh\n");
      await Deno.chmod(bin, 0o755);
      for (const unit of ["cnishim.socket", "cnishim.service"]) {
        const text = await Deno.readTextFile(join(UNITS, unit));
        await Deno.writeTextFile(
          join(dir, unit),
          text.replaceAll("/usr/bin/cnishim", bin),
        );
      }
      const out = await new Deno.Command(ANALYZE, {
        args: [
          "verify",
          "--man=no",
          join(dir, "cnishim.socket"),
          join(dir, "cnishim.service"),
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const said = new TextDecoder().decode(out.stderr) +
        new TextDecoder().decode(out.stdout);
      equal(out.code, 0, said);
      equal(said, "");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
