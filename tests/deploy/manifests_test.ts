/**
 * The DaemonSets of `deploy/`, validated offline against the Kubernetes
 * API schemas: npm `kubernetes-models` 5.1.0, whose validators are
 * generated from the Kubernetes OpenAPI spec (here `io.k8s.api.apps.v1.DaemonSet`
 * and everything it reaches: `DaemonSetSpec`, `PodTemplateSpec`,
 * `core.v1.PodSpec`, `Container`, `Probe`, `Lifecycle`, `VolumeMount`,
 * `HostPathVolumeSource`, `ResourceRequirements`, `Toleration`,
 * `SecurityContext`). Those schemas check types, required fields and
 * enums but let unknown keys through, so every command line in them is
 * also checked against cnishim's own command and flag tables, and the
 * points the design rests on are asserted one by one.
 *
 * @module
 */
import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { parseAllDocuments } from "yaml";
import { DaemonSet } from "kubernetes-models/apps/v1/DaemonSet";
import { REPO_ROOT } from "../_helpers/run_cli.ts";
import { IMAGE_ENTRYPOINT } from "../../scripts/_bundle.ts";
import { FLAGS } from "../../src/cli/flags.ts";
import { findCommand } from "../../src/cli/command_table.ts";

// deno-lint-ignore no-explicit-any -- the manifests are free-form YAML
type Json = any;

const VERSION = JSON.parse(await Deno.readTextFile(`${REPO_ROOT}/deno.json`))
  .version as string;

async function manifest(name: string): Promise<Json[]> {
  const text = await Deno.readTextFile(`${REPO_ROOT}/deploy/${name}`);
  return parseAllDocuments(text).map((d) => {
    equal(d.errors.length, 0, `${name}: ${d.errors.join("; ")}`);
    return d.toJS();
  });
}

function validate(doc: Json): void {
  new DaemonSet(doc).validate();
}

/** The cnishim command line of an exec probe or preStop: after the entrypoint. */
function cnishimArgs(command: string[]): string[] {
  deepEqual(command.slice(0, IMAGE_ENTRYPOINT.length), IMAGE_ENTRYPOINT);
  return command.slice(IMAGE_ENTRYPOINT.length);
}

/** Every flag is one of cnishim's, with a value when it takes one. */
function checkCommandLine(args: string[]): void {
  const command = findCommand(args[0]!);
  ok(command, `unknown command ${args[0]}`);
  for (let i = 1; i < args.length; i++) {
    const a = args[i]!;
    ok(a.startsWith("--"), `stray argument ${a} in ${args.join(" ")}`);
    const spec = FLAGS.find((f) => f.name === a.slice(2));
    ok(spec, `unknown flag ${a} in ${args.join(" ")}`);
    if (spec.kind !== "boolean") {
      ok(args[++i] !== undefined, `${a} needs a value`);
    }
  }
}

const flag = (args: string[], name: string) => {
  const i = args.indexOf(name);
  return i === -1 ? undefined : args[i + 1];
};

function checkDaemonSet(ds: Json, thick: boolean): void {
  validate(ds);
  equal(ds.kind, "DaemonSet");
  equal(ds.metadata.name, "cnishim");
  equal(ds.metadata.namespace, "kube-system");
  const pod = ds.spec.template.spec;
  deepEqual(ds.spec.selector.matchLabels, ds.spec.template.metadata.labels);
  equal(pod.priorityClassName, "system-node-critical");
  // Every taint.
  deepEqual(pod.tolerations, [{ operator: "Exists" }]);
  // Nothing talks to the API server.
  equal(pod.automountServiceAccountToken, false);
  equal(pod.serviceAccountName, undefined);
  const volumes = Object.fromEntries(
    pod.volumes.map((v: Json) => [v.name, v.hostPath?.path ?? "emptyDir"]),
  );
  for (const p of ["/opt/cni/bin", "/etc/cni/net.d"]) {
    ok(Object.values(volumes).includes(p), `no hostPath ${p}`);
  }
  const all = [...pod.initContainers, ...pod.containers];
  for (const c of all) {
    equal(c.image, `localhost/cnishim:${VERSION}`, c.name);
    equal(c.imagePullPolicy, "Never", c.name);
    checkCommandLine(c.args);
    for (const k of ["cpu", "memory"]) {
      ok(c.resources.requests[k], `${c.name}: no ${k} request`);
      ok(c.resources.limits[k], `${c.name}: no ${k} limit`);
    }
    for (const m of c.volumeMounts) ok(m.name in volumes, m.name);
  }
  const [init] = pod.initContainers;
  deepEqual(init.args.slice(0, 2), ["install", "--once"]);
  const keep = pod.containers.find((c: Json) => c.name === "keep");
  equal(keep.args[0], "install");
  ok(!keep.args.includes("--once"));
  // The host dirs at install's default paths, as the image's defaults.
  for (const c of [init, keep]) {
    const mounts = Object.fromEntries(
      c.volumeMounts.map((m: Json) => [m.mountPath, volumes[m.name]]),
    );
    equal(mounts["/host/opt/cni/bin"], "/opt/cni/bin");
    equal(mounts["/host/etc/cni/net.d"], "/etc/cni/net.d");
  }
  // Readiness: the file is written, with the keep container's own mode.
  const ready = cnishimArgs(keep.readinessProbe.exec.command);
  checkCommandLine(ready);
  deepEqual(ready, [...keep.args, "--check"].filter((a) => a !== "--once"));
  deepEqual(cnishimArgs(keep.lifecycle.preStop.exec.command), ["uninstall"]);
  for (const c of [init, keep]) {
    equal(c.args.includes("--thick"), thick, c.name);
    if (thick) equal(flag(c.args, "--socket"), "/run/cnishim/cnishim.sock");
  }
  if (!thick) {
    equal(pod.containers.length, 1);
    return;
  }
  const serve = pod.containers.find((c: Json) => c.name === "serve");
  equal(serve.args[0], "serve");
  equal(pod.hostNetwork, true);
  equal(serve.securityContext.privileged, true);
  const socket = flag(serve.args, "--socket");
  equal(socket, "/run/cnishim/cnishim.sock");
  // The server's dirs are the conflist's (the node's own paths).
  equal(flag(serve.args, "--cni-conf-dir"), "/etc/cni/net.d");
  equal(flag(serve.args, "--cni-bin-dir"), "/opt/cni/bin");
  equal(flag(serve.args, "--cni-cache-dir"), "/var/lib/cni/cnishim");
  const mounts = Object.fromEntries(
    serve.volumeMounts.map((m: Json) => [m.mountPath, m]),
  );
  for (const p of ["/opt/cni/bin", "/etc/cni/net.d", "/var/lib/cni"]) {
    equal(volumes[mounts[p].name], p);
  }
  equal(volumes[mounts["/run/cnishim"].name], "/run/cnishim");
  equal(volumes[mounts["/run/netns"].name], "/run/netns");
  // Netns bind mounts made after the server started must reach it.
  equal(mounts["/run/netns"].mountPropagation, "HostToContainer");
  const live = cnishimArgs(serve.livenessProbe.exec.command);
  deepEqual(live, ["metrics", "--socket", socket]);
}

Deno.test("deploy/cnishim-thin.yaml: one DaemonSet, valid against the Kubernetes API schemas (kubernetes-models), install --once then install, readiness --check, preStop uninstall, every taint tolerated, no API access", async () => {
  const docs = await manifest("cnishim-thin.yaml");
  equal(docs.length, 1);
  checkDaemonSet(docs[0], false);
});

Deno.test("deploy/cnishim-thick.yaml: the same plus serve (host network, privileged, the node's dirs at their paths, /run/netns HostToContainer, liveness by metrics), install --thick naming serve's socket", async () => {
  const docs = await manifest("cnishim-thick.yaml");
  equal(docs.length, 1);
  checkDaemonSet(docs[0], true);
});

Deno.test("the schema validation refuses a broken DaemonSet (so the tests above can fail)", async () => {
  const [ds] = await manifest("cnishim-thick.yaml");
  const broken = (edit: (d: Json) => void) => {
    const copy = structuredClone(ds);
    edit(copy);
    return copy;
  };
  const pod = (d: Json) => d.spec.template.spec;
  throws(() =>
    validate(broken((d) => {
      pod(d).containers[0].volumeMounts[4].mountPropagation = "Sideways";
    }))
  );
  throws(() => validate(broken((d) => delete pod(d).containers[0].name)));
  throws(() => validate(broken((d) => (pod(d).hostNetwork = "yes"))));
  throws(() => validate(broken((d) => delete d.spec.selector)));
  throws(() => checkCommandLine(["install", "--oncee"]));
});
