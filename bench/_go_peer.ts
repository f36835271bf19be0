/**
 * The Go peer of figure 8: bench/libcni_driver (our driver of the
 * reference libcni) built at bench time from Debian's `golang-go` and
 * `golang-github-appc-cni-dev` (libcni 1.1.2 under /usr/share/gocode), in
 * GOPATH mode and offline, into the bench's temp dir. Without them the
 * reason is returned for the figure to print.
 *
 * @module
 */
import { join } from "node:path";
import {
  BENCH_PARTS,
  missingParts,
  packagesFor,
} from "../scripts/real_parts.ts";
import { ROOT } from "./_fixtures.ts";

/** The built driver, or why there is none. */
export type GoPeer =
  | { driver: string; goVersion: string; libcni: string }
  | { skipped: string };

const GOPATH = "/usr/share/gocode";
const LIBCNI = `${GOPATH}/src/github.com/containernetworking/cni`;
const DEC = new TextDecoder();

/**
 * Builds the driver into `tmp`, or says why it cannot (the bench installs
 * BENCH_PARTS first when root).
 */
export async function buildGoPeer(tmp: string): Promise<GoPeer> {
  const parts = Object.fromEntries(
    Object.entries(BENCH_PARTS).filter(([, pkg]) =>
      pkg === "golang-go" || pkg === "golang-github-appc-cni-dev"
    ),
  );
  const missing = await missingParts(parts);
  if (missing.length) {
    return {
      skipped: `${missing.join(", ")} missing (Debian ${
        packagesFor(parts, missing).join(" ")
      }); ${
        Deno.uid() === 0
          ? "apt-get did not provide them"
          : "run the bench as root to install them"
      }`,
    };
  }
  const driver = join(tmp, "libcni_driver");
  const env: Record<string, string> = {
    GO111MODULE: "off",
    GOPATH,
    GOPROXY: "off",
    GOFLAGS: "-buildvcs=false",
  };
  // Go needs a build cache; without a home, one in the temp dir.
  if (!Deno.env.get("HOME") && !Deno.env.get("GOCACHE")) {
    env.GOCACHE = join(tmp, "go-cache");
  }
  const build = await new Deno.Command("go", {
    args: ["build", "-o", driver, "./bench/libcni_driver"],
    cwd: ROOT,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!build.success) {
    return {
      skipped: `go build of bench/libcni_driver failed: ${
        DEC.decode(build.stderr).trim()
      }`,
    };
  }
  const version = await new Deno.Command("go", {
    args: ["version"],
    stdout: "piped",
  }).output();
  return {
    driver,
    goVersion: DEC.decode(version.stdout).trim(),
    libcni: await libcniVersion(),
  };
}

// The Debian package's version names the libcni it holds.
async function libcniVersion(): Promise<string> {
  const out = await new Deno.Command("dpkg-query", {
    args: ["-W", "-f", "${Version}", "golang-github-appc-cni-dev"],
    stdout: "piped",
    stderr: "null",
  }).output().catch(() => undefined);
  return out?.success
    ? `libcni ${DEC.decode(out.stdout)}`
    : `libcni (${LIBCNI})`;
}
