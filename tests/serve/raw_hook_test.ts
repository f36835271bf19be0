/**
 * The thinnest client: `POST /v1/hook` with the raw OCI state as its body,
 * so that an OCI hook program can be `curl --unix-socket … --fail-with-body
 * --data-binary @- http://cnishim/v1/hook` (no Deno process per call).
 * Posted with curl and with fetch against fake plugins: the same plugin
 * calls and answer as `cnishim hook` with the state on stdin, and every
 * failure a non-2xx status, so curl exits non-zero and the runtime fails
 * the create.
 *
 * @module
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { join } from "node:path";
import { FakePlugins } from "../_helpers/fake_plugins.ts";
import { explain, runCli } from "../_helpers/run_cli.ts";
import { spawnWithStdin } from "../_helpers/shell.ts";
import { rawHttp, startServe } from "./_serve.ts";

const PORTS = [{ hostPort: 18080, containerPort: 80, protocol: "tcp" }];

/** An OCI state as runc writes it on a hook's stdin. */
function ociState(
  id: string,
  status: string,
  pid?: number,
): Record<string, unknown> {
  return {
    ociVersion: "1.0.2",
    id,
    status,
    ...(pid === undefined ? {} : { pid }),
    bundle: "/run/bundles/" + id,
    annotations: { "cnishim.io/port-mappings": JSON.stringify(PORTS) },
  };
}

/** curl as a runtime runs the hook program: the state on stdin. */
async function curlHook(
  socket: string,
  state: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return await spawnWithStdin("curl", state, {
    args: [
      "--unix-socket",
      socket,
      "-sS",
      "--fail-with-body",
      "--data-binary",
      "@-",
      "http://cnishim/v1/hook",
    ],
  });
}

async function bed(fake: FakePlugins) {
  const conf = await fake.writeConfDir({
    "10-n1.conflist": {
      cniVersion: "1.0.0",
      name: "n1",
      plugins: [
        { type: "a" },
        { type: "b", capabilities: { portMappings: true } },
      ],
    },
  });
  const config = join(fake.root, "config.json");
  await Deno.writeTextFile(config, "{}");
  return {
    socket: join(fake.root, "run", "cnishim.sock"),
    flags: [...fake.cliFlags(conf, config), "--no-loopback"],
  };
}

/** Fake plugins a, b (b takes port mappings) behind a running server. */
async function hookBed() {
  const fake = await FakePlugins.create(["a", "b"]);
  const { socket, flags } = await bed(fake);
  const server = await startServe(socket, flags);
  return {
    fake,
    flags,
    server,
    async [Symbol.asyncDispose]() {
      await server[Symbol.asyncDispose]();
      await fake[Symbol.asyncDispose]();
    },
  };
}

async function cacheFiles(fake: FakePlugins): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(join(fake.cacheDir, "results"))) {
      names.push(e.name);
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return names.sort();
}

Deno.test("curl posting the raw OCI state to /v1/hook adds on creating and deletes on stopped, as `cnishim hook` does", async () => {
  await using hb = await hookBed();
  const { fake, flags, server } = hb;

  const add = await curlHook(
    server.socket,
    JSON.stringify(ociState("c1", "creating", Deno.pid)),
  );
  equal(add.code, 0, add.stdout + add.stderr);
  const adds = (await fake.calls()).filter((c) => c.command !== "VERSION");
  deepEqual(adds.map((c) => `${c.type} ${c.command}`), ["a ADD", "b ADD"]);
  for (const c of adds) {
    equal(c.env.CNI_CONTAINERID, "c1");
    equal(c.env.CNI_NETNS, `/proc/${Deno.pid}/ns/net`);
  }
  deepEqual(adds[1]!.stdin.runtimeConfig, { portMappings: PORTS });
  deepEqual(await cacheFiles(fake), ["n1-c1-eth0"]);

  await fake.clearCalls();
  const del = await curlHook(
    server.socket,
    JSON.stringify(ociState("c1", "stopped")),
  );
  equal(del.code, 0, del.stdout + del.stderr);
  deepEqual(
    (await fake.calls()).filter((c) => c.command !== "VERSION").map((c) =>
      `${c.type} ${c.command} ${c.env.CNI_CONTAINERID}`
    ),
    ["b DEL c1", "a DEL c1"],
  );
  deepEqual(await cacheFiles(fake), []);

  // The CLI given the same state on stdin prints the same answer.
  const cli = await runCli(["hook", ...flags], {
    stdin: JSON.stringify(ociState("c1", "creating", Deno.pid)),
  });
  equal(cli.code, 0, explain(cli));
  equal(add.stdout, cli.stdout);
  equal(
    (await curlHook(server.socket, JSON.stringify(ociState("c1", "stopped"))))
      .code,
    0,
  );
  equal((await server.stop()).code, 0);
});

Deno.test("a failing hook through curl is a non-2xx answer: curl exits 22 with the CNI error object, nothing is left", async () => {
  await using hb = await hookBed();
  const { fake, server } = hb;

  // A state the hook refuses: no plugin runs.
  const running = await curlHook(
    server.socket,
    JSON.stringify(ociState("c1", "running", Deno.pid)),
  );
  equal(running.code, 22, running.stdout + running.stderr);
  const refused = JSON.parse(running.stdout);
  equal(refused.code, 7);
  match(refused.msg, /Invalid OCI state on stdin: "status" is "running"/);
  match(running.stderr, /error: 500/);

  // A body that is not JSON at all: a usage error, HTTP 400.
  const garbage = await curlHook(server.socket, "{not json");
  equal(garbage.code, 22, garbage.stdout + garbage.stderr);
  match(garbage.stderr, /error: 400/);
  deepEqual(
    (await fake.calls()).filter((c) => c.command !== "VERSION"),
    [],
  );

  // A plugin failing ADD: its error comes back, the pod is undone.
  await fake.answer("b", "ADD", {
    stdout: { cniVersion: "1.0.0", code: 11, msg: "busy" },
    exit: 1,
  });
  const failed = await curlHook(
    server.socket,
    JSON.stringify(ociState("c2", "creating", Deno.pid)),
  );
  equal(failed.code, 22, failed.stdout + failed.stderr);
  const error = JSON.parse(failed.stdout);
  equal(error.code, 11);
  match(error.msg, /busy/);
  deepEqual(await cacheFiles(fake), []);
  equal((await server.stop()).code, 0);
});

Deno.test("fetch posting the raw OCI state to /v1/hook: 200 with the result, then a non-2xx status with the CNI error", async () => {
  await using hb = await hookBed();
  const { fake, server } = hb;
  {
    using http = rawHttp(server.socket);
    const post = (state: Record<string, unknown>) =>
      http.post("/v1/hook", JSON.stringify(state));
    const add = await post(ociState("f1", "creating", Deno.pid));
    equal(add.status, 200);
    equal(add.headers.get("cnishim-exit-code"), "0");
    const added = await add.json();
    deepEqual(
      added.networks.map((n: { name: string; interface: string }) =>
        `${n.name}@${n.interface}`
      ),
      ["n1@eth0"],
    );
    deepEqual(await cacheFiles(fake), ["n1-f1-eth0"]);

    const noPid = await post(ociState("f2", "creating"));
    ok(noPid.status >= 400, `status ${noPid.status}`);
    equal(noPid.headers.get("cnishim-exit-code"), "1");
    const body = await noPid.json();
    equal(body.code, 7);
    match(body.msg, /"pid" is missing/);

    const del = await post(ociState("f1", "stopped"));
    equal(del.status, 200);
    await del.body?.cancel();
    deepEqual(await cacheFiles(fake), []);
  }
  equal((await server.stop()).code, 0);
});
