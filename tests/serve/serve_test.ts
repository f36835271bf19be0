/**
 * `cnishim serve` and the `--socket` client, both as child processes,
 * against fake plugins that record every call: the server answers what
 * the CLI prints, shares the cache and the locks with CLI invocations,
 * picks up conf changes, and stops gracefully. No root needed.
 *
 * @module
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { join } from "node:path";
import { type FakeCall, FakePlugins } from "../_helpers/fake_plugins.ts";
import { baseEnv, cliCommand, explain, runCli } from "../_helpers/run_cli.ts";
import { bedFor, rawHttp, startServe, writeNetwork } from "./_serve.ts";
import { waitFor } from "../_helpers/wait_for.ts";

// Fake plugins never enter it, but setup refuses a path that is no netns.
const NETNS = "/proc/self/ns/net";

// The CLI's own log lines (timestamped) go to the server's log in serve mode.
function withoutLogLines(text: string): string {
  return text.split("\n").filter((l) => !/^\d{4}-\d\d-\d\dT\S+ \w+ /.test(l))
    .join("\n");
}

function trace(calls: FakeCall[], root: string): string[] {
  return calls.map((c) =>
    `${c.type} ${c.command} ${c.env.CNI_CONTAINERID ?? ""} ${
      c.env.CNI_IFNAME ?? ""
    } ${JSON.stringify(c.stdin).replaceAll(root, "<root>")}`
  );
}

Deno.test("every operation through --socket prints what the CLI prints, exits the same, and calls the plugins the same", async (t) => {
  // Two identical worlds: A is driven by the CLI, B through the server.
  await using fakeA = await FakePlugins.create(["a", "b", "loopback"]);
  await using fakeB = await FakePlugins.create(["a", "b", "loopback"]);
  const nets = [{ name: "n1", types: ["a", "b"] }, {
    name: "n2",
    types: ["b"],
  }];
  const bedA = await bedFor(fakeA, nets);
  const bedB = await bedFor(fakeB, nets);
  await using server = await startServe(bedB.socket, bedB.flags);

  const extras = (name: string) =>
    JSON.stringify({
      "network.alpha.kubernetes.io/network": JSON.stringify([{
        name,
        interface: "eth1",
      }]),
    });
  const cases: { name: string; argv: string[]; stdin?: string }[] = [
    { name: "networks", argv: ["networks"] },
    { name: "status", argv: ["status"] },
    {
      name: "add with pod flags and port mappings",
      argv: [
        "add",
        "c1",
        NETNS,
        "--pod-name",
        "web",
        "--pod-namespace",
        "default",
        "--port-mappings",
        '[{"hostPort":8080,"containerPort":80,"protocol":"tcp"}]',
      ],
    },
    { name: "add --output cni", argv: ["add", "c2", NETNS, "--output=cni"] },
    {
      name: "add with an extra network",
      argv: ["add", "c3", NETNS, "--annotations", extras("n2")],
    },
    {
      name: "add naming an unknown network (code 7)",
      argv: ["add", "c4", NETNS, "--annotations", extras("nope")],
    },
    { name: "add with a bad id (code 4)", argv: ["add", "bad id!", NETNS] },
    { name: "add without a netns (usage)", argv: ["add", "c5"] },
    { name: "add with an unknown flag", argv: ["add", "c5", NETNS, "--nope"] },
    { name: "check", argv: ["check", "c1", NETNS] },
    { name: "result", argv: ["result", "c3"] },
    { name: "result of nothing", argv: ["result", "nothing"] },
    { name: "gc keeping c1", argv: ["gc", "--keep", "c1"] },
    {
      name: "hook poststop",
      argv: ["hook"],
      stdin: JSON.stringify({
        ociVersion: "1.0.2",
        id: "c1",
        status: "stopped",
        annotations: {},
      }),
    },
    { name: "del again (idempotent)", argv: ["del", "c1", NETNS] },
  ];
  const run = async (c: typeof cases[number]) => {
    const opts = c.stdin === undefined ? {} : { stdin: c.stdin };
    const [direct, served] = [
      await runCli([...c.argv, ...bedA.flags], opts),
      await runCli(["--socket", server.socket, ...c.argv], opts),
    ];
    const norm = (text: string, root: string) =>
      text.replaceAll(root, "<root>");
    equal(served.code, direct.code, `exit code\n${explain(served)}`);
    equal(
      norm(served.stdout, fakeB.root),
      norm(direct.stdout, fakeA.root),
      "stdout",
    );
    equal(
      norm(served.stderr, fakeB.root),
      norm(withoutLogLines(direct.stderr), fakeA.root),
      "stderr",
    );
    return served;
  };
  for (const c of cases) await t.step(c.name, async () => void await run(c));

  await t.step("a failing plugin's error object", async () => {
    for (const fake of [fakeA, fakeB]) {
      await fake.answer("b", "ADD", {
        stdout: { cniVersion: "1.0.0", code: 11, msg: "busy", details: "x" },
        exit: 1,
      });
    }
    const served = await run({ name: "fail", argv: ["add", "cf", NETNS] });
    equal(served.code, 1);
    equal(served.json<{ code: number }>().code, 11);
  });

  // Loopback and the networks attach in parallel: compare as sets.
  deepEqual(
    trace(await fakeB.calls(), fakeB.root).sort(),
    trace(await fakeA.calls(), fakeA.root).sort(),
  );
  equal((await server.stop()).code, 0);
});

Deno.test("cnishim serve: socket 0660 in a created 0750 dir, a stale socket replaced, a live one or a non-socket refused, removed on SIGTERM", async () => {
  await using fake = await FakePlugins.create(["a"]);
  const bed = await bedFor(fake, [{ name: "n1", types: ["a"] }]);
  const sock = join(fake.root, "deep", "run", "cnishim.sock");

  // A stale socket: bound once, its server gone (Deno unlinks the path it
  // bound on close, so the stale one is a second link to that socket).
  await Deno.mkdir(join(fake.root, "deep", "run"), { recursive: true });
  const bound = join(fake.root, "deep", "bound.sock");
  const stale = Deno.listen({ transport: "unix", path: bound });
  await Deno.link(bound, sock);
  stale.close();
  ok((await Deno.lstat(sock)).isSocket);

  await using server = await startServe(sock, bed.flags);
  equal((await Deno.stat(sock)).mode! & 0o777, 0o660);
  const served = await runCli(["--socket", sock, "networks"]);
  equal(served.code, 0, explain(served));

  // A second server on the same path is refused while the first lives.
  const second = await runCli(["serve", "--socket", sock, ...bed.flags]);
  equal(second.code, 1, explain(second));
  match(second.stderr, /another server is listening there/);

  equal((await server.stop()).code, 0);
  equal(await Deno.lstat(sock).then(() => true, () => false), false);

  // The parent dir is created 0750 when missing.
  const fresh = join(fake.root, "made", "cnishim.sock");
  await using other = await startServe(fresh, bed.flags);
  equal((await Deno.stat(join(fake.root, "made"))).mode! & 0o777, 0o750);
  equal((await other.stop()).code, 0);

  // A regular file where the socket goes is never replaced.
  const file = join(fake.root, "not-a-socket");
  await Deno.writeTextFile(file, "keep me");
  const refused = await runCli(["serve", "--socket", file, ...bed.flags]);
  equal(refused.code, 1, explain(refused));
  match(refused.stdout, /"code": 5/);
  match(refused.stderr, /exists and is not a socket/);
  equal(await Deno.readTextFile(file), "keep me");
});

Deno.test("SIGTERM the moment the socket appears still stops cleanly: exit 0, socket gone", async () => {
  await using fake = await FakePlugins.create(["a"]);
  const bed = await bedFor(fake, [{ name: "n1", types: ["a"] }]);
  const [cmd, ...lead] = cliCommand();
  for (let round = 0; round < 8; round++) {
    const sock = join(fake.root, `race-${round}.sock`);
    const child = new Deno.Command(cmd, {
      args: [...lead, "serve", "--socket", sock, ...bed.flags],
      clearEnv: true,
      env: baseEnv(),
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    // Polled with lstat alone, so the signal lands right after the rename
    // that publishes the socket (before the fix, before the handler).
    const deadline = Date.now() + 15_000;
    while (!(await Deno.lstat(sock).then(() => true, () => false))) {
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new Error(`no socket at ${sock} within 15 s`);
      }
      await new Promise((r) => setTimeout(r, 0));
    }
    child.kill("SIGTERM");
    const out = await child.output();
    equal(out.code, 0, new TextDecoder().decode(out.stderr));
    equal(await Deno.lstat(sock).then(() => true, () => false), false);
  }
});

Deno.test("--socket: no server is CNI code 11, a server setting is a usage error, a bad body is answered as a usage error", async () => {
  await using fake = await FakePlugins.create(["a"]);
  const bed = await bedFor(fake, [{ name: "n1", types: ["a"] }]);

  const none = await runCli(["--socket", bed.socket, "add", "c1", NETNS]);
  equal(none.code, 1, explain(none));
  equal(none.json<{ code: number }>().code, 11);
  match(none.stderr, /Cannot reach cnishim serve at ".*cnishim\.sock"/);

  await using server = await startServe(bed.socket, bed.flags);
  for (
    const flags of [
      ["--cni-bin-dir", "/tmp"],
      ["--cni-conf-dir", "/tmp"],
      ["--config", "/tmp/x.json"],
      ["--serial"],
      ["--timeout", "1s"],
    ]
  ) {
    const run = await runCli([
      "--socket",
      server.socket,
      "add",
      "c1",
      NETNS,
      ...flags,
    ]);
    equal(run.code, 2, explain(run));
    equal(run.stdout, "");
    match(run.stderr, /is a setting of the server/);
  }
  // Nothing was added.
  deepEqual((await fake.calls()).filter((c) => c.command !== "VERSION"), []);

  // A raw HTTP client gets the same treatment, with the exit status in a header.
  {
    using http = rawHttp(server.socket);
    for (
      const [path, body, text] of [
        ["/v1/add", "{not json", /Cannot decode the request body/],
        ["/v1/add", '{"args":[1]}', /"args" must be a list of strings/],
        [
          "/v1/add",
          '{"flags":{"__proto__":"x"}}',
          /Unknown flag "--__proto__"/,
        ],
        [
          "/v1/add",
          '{"args":["c1","/x"],"flags":{"cni-bin-dir":["/tmp"]}}',
          /is a setting of the server/,
        ],
        ["/v1/serve", "", /Unknown operation "\/v1\/serve"/],
      ] as const
    ) {
      const res = await http.post(path, body);
      // The body is a CNI error object saying what the header says.
      const error = await res.json();
      equal(res.status, 400, `${path} ${body}`);
      equal(res.headers.get("cnishim-exit-code"), "2");
      match(decodeURIComponent(res.headers.get("cnishim-stderr")!), text);
      equal(error.code, 4);
      match(error.msg, text);
    }
    const res = await http.get("/v1/status");
    equal(res.headers.get("cnishim-exit-code"), "1");
    equal(res.status, 503);
    deepEqual(Object.keys(await res.json()).sort(), [
      "defaultNetwork",
      "loopback",
      "networks",
      "ready",
      "reasons",
      "skipped",
    ]);
  }
  deepEqual((await fake.calls()).filter((c) => c.command !== "VERSION"), []);
  equal((await server.stop()).code, 0);
});

Deno.test("cnishim serve picks up a conf file added while serving within 6 s, and status reflects what is loaded", async () => {
  await using fake = await FakePlugins.create(["a"]);
  const bed = await bedFor(fake, []);
  await using server = await startServe(bed.socket, bed.flags);
  const notReady = await runCli(["--socket", server.socket, "status"]);
  equal(notReady.code, 1, explain(notReady));
  equal(notReady.json<{ ready: boolean }>().ready, false);

  await writeNetwork(bed.conf, "10-late.conflist", {
    name: "late",
    types: ["a"],
  });
  const ms = await waitFor(async () => {
    const run = await runCli(["--socket", server.socket, "status"]);
    return run.json<{ defaultNetwork?: string }>().defaultNetwork === "late";
  }, 6000);
  ok(ms < 6000);
  const add = await runCli(["--socket", server.socket, "add", "c1", NETNS]);
  equal(add.code, 0, explain(add));
  deepEqual(
    add.json<{ networks: { name: string }[] }>().networks.map((n) => n.name),
    ["late"],
  );
  equal((await server.stop()).code, 0);
});

Deno.test("cnishim serve keeps the last good networks when a rescan finds nothing valid", async () => {
  await using fake = await FakePlugins.create(["a"]);
  const bed = await bedFor(fake, [{ name: "n1", types: ["a"] }]);
  await using server = await startServe(bed.socket, bed.flags);
  await Deno.remove(join(bed.conf, "10-n1.conflist"));
  await Deno.writeTextFile(join(bed.conf, "20-broken.conflist"), "{ nope");
  // Past the watch's settle time and a whole 5 s rescan.
  await new Promise((r) => setTimeout(r, 5500));
  const networks = await runCli(["--socket", server.socket, "networks"]);
  equal(networks.code, 0, explain(networks));
  const listed = networks.json<{
    defaultNetwork: string;
    skipped: { file: string }[];
  }>();
  equal(listed.defaultNetwork, "n1");
  // The networks are the last good ones; the skipped files are today's.
  deepEqual(listed.skipped.map((s) => s.file), [
    join(bed.conf, "20-broken.conflist"),
  ]);
  const add = await runCli(["--socket", server.socket, "add", "c1", NETNS]);
  equal(add.code, 0, explain(add));
  // The CLI, scanning cold, sees the truth.
  const cold = await runCli(["networks", ...bed.flags]);
  equal(cold.json<{ defaultNetwork: null }>().defaultNetwork, null);
  match((await server.stop()).stderr, /keeping the last good set/);
});

Deno.test("a pod added through the server is deleted by a CLI del: one cache, one set of locks", async () => {
  await using fake = await FakePlugins.create(["a", "b"]);
  const bed = await bedFor(fake, [{ name: "n1", types: ["a", "b"] }]);
  await using server = await startServe(bed.socket, bed.flags);
  const add = await runCli(["--socket", server.socket, "add", "c1", NETNS]);
  equal(add.code, 0, explain(add));
  await fake.clearCalls();

  const del = await runCli(["del", "c1", NETNS, ...bed.flags]);
  equal(del.code, 0, explain(del));
  deepEqual(
    del.json<{ removed: { network: string }[] }>().removed.map((r) =>
      r.network
    ),
    ["n1"],
  );
  deepEqual(
    (await fake.calls()).map((c) => `${c.type} ${c.command}`),
    ["b DEL", "a DEL"],
  );
  const result = await runCli(["--socket", server.socket, "result", "c1"]);
  deepEqual(result.json<{ networks: unknown[] }>().networks, []);

  // And the other way round, concurrently: an ADD through the server and
  // a CLI DEL of the same container never interleave their plugin calls.
  await fake.clearCalls();
  await fake.answer("a", "ADD", { sleep: 1 });
  const served = runCli(["--socket", server.socket, "add", "c2", NETNS]);
  await waitFor(async () => (await fake.calls()).length > 0, 5000);
  const cliDel = await runCli(["del", "c2", NETNS, ...bed.flags]);
  equal((await served).code, 0);
  equal(cliDel.code, 0, explain(cliDel));
  deepEqual(
    (await fake.calls()).map((c) => `${c.type} ${c.command}`),
    ["a ADD", "b ADD", "b DEL", "a DEL"],
  );
  equal((await server.stop()).code, 0);
});

Deno.test("SIGTERM during an ADD: the ADD finishes and is cached, new requests get CNI code 11, the socket goes", async () => {
  await using fake = await FakePlugins.create(["a", "b"]);
  const bed = await bedFor(fake, [{ name: "n1", types: ["a", "b"] }]);
  await fake.answer("b", "ADD", { sleep: 2 });
  await using server = await startServe(bed.socket, bed.flags);

  const adding = runCli(["--socket", server.socket, "add", "c1", NETNS]);
  await waitFor(
    async () => (await fake.calls()).some((c) => c.type === "b"),
    5000,
  );
  Deno.kill(server.pid, "SIGTERM");
  // While the ADD drains, a new request is refused with a CNI error, which
  // is HTTP 503 (Service Unavailable) for a raw client.
  await new Promise((r) => setTimeout(r, 200));
  {
    using http = rawHttp(server.socket);
    const res = await http.post("/v1/add", "{}");
    equal(res.status, 503);
    equal((await res.json()).code, 11);
  }
  const refused = await runCli(["--socket", server.socket, "add", "c2", NETNS]);
  equal(refused.code, 1, explain(refused));
  const error = refused.json<{ code: number; msg: string }>();
  equal(error.code, 11);
  match(error.msg, /stopping; try again later/);

  const added = await adding;
  equal(added.code, 0, explain(added));
  equal((await server.exited).code, 0);
  equal(await Deno.lstat(server.socket).then(() => true, () => false), false);

  // The cache holds the finished ADD; c2 never started.
  const result = await runCli(["result", "c1", ...bed.flags]);
  deepEqual(
    result.json<{ networks: { name: string; complete: boolean }[] }>()
      .networks.map((n) => [n.name, n.complete]),
    [["n1", true]],
  );
  ok(!(await fake.calls()).some((c) => c.env.CNI_CONTAINERID === "c2"));
  const del = await runCli(["del", "c1", ...bed.flags]);
  equal(del.code, 0, explain(del));
});
