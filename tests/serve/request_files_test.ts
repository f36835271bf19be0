/**
 * `cnishim serve` runs as root and reads no file a client names: an
 * `@FILE` value of a flag that takes one is refused in a request (usage
 * error naming the flag), and the `--socket` client sends the file's text
 * instead. The attacker is also run as nobody, who may reach the socket
 * (its group) but not read the file.
 *
 * @module
 */
import { equal, match, ok } from "node:assert/strict";
import { join } from "node:path";
import { FakePlugins } from "../_helpers/fake_plugins.ts";
import { explain, runCli } from "../_helpers/run_cli.ts";
import { FLAGS } from "../../src/cli/flags.ts";
import { EXIT_CODE_HEADER } from "../../src/serve/protocol.ts";
import { bedFor, rawHttp, startServe } from "./_serve.ts";
import { ignoreWithout, requirePart } from "../_helpers/prerequisites.ts";

const NETNS = "/proc/self/ns/net";
const CURL = "/usr/bin/curl";
const SECRET = "TOPSECRET-not-for-clients";
const FILE_FLAGS = FLAGS.filter((f) => f.file).map((f) => f.name);

Deno.test("the flags that take @FILE are known (annotations)", () => {
  equal(FILE_FLAGS.join(","), "annotations");
});

Deno.test("serve refuses an @FILE value in a request (usage error naming the flag), reads neither a secret nor a FIFO, and the --socket client sends the file's text", async () => {
  await using fake = await FakePlugins.create(["a"]);
  const bed = await bedFor(fake, [{ name: "n1", types: ["a"] }]);
  await using server = await startServe(bed.socket, bed.flags);
  const secret = join(fake.root, "secret.json");
  await Deno.writeTextFile(secret, `{"x": "${SECRET}"`, { mode: 0o600 });
  const fifo = join(fake.root, "fifo");
  await new Deno.Command("mkfifo", { args: [fifo] }).output();

  using http = rawHttp(server.socket);
  for (const flag of FILE_FLAGS) {
    for (const target of [secret, fifo, "/etc/shadow"]) {
      const res = await http.post(
        "/v1/add",
        JSON.stringify({
          args: ["c1", NETNS],
          flags: { [flag]: `@${target}` },
        }),
      );
      const body = await res.text();
      equal(res.status, 400, body);
      equal(res.headers.get(EXIT_CODE_HEADER), "2");
      match(body, new RegExp(`--${flag}.*@FILE`));
      ok(!body.includes(SECRET) && !body.includes("root:"), body);
    }
  }
  equal((await fake.calls()).length, 0, "no plugin ran");

  // The client reads the file itself: a valid one works through the server.
  const good = join(fake.root, "ann.json");
  await Deno.writeTextFile(good, JSON.stringify({ "x.io/k": "v" }));
  const ran = await runCli([
    "--socket",
    server.socket,
    "add",
    "c2",
    NETNS,
    "--annotations",
    `@${good}`,
  ]);
  equal(ran.code, 0, explain(ran));
  // A file whose text is itself "@…" is not followed by the server either.
  const relay = join(fake.root, "relay");
  await Deno.writeTextFile(relay, `@${secret}`);
  const relayed = await runCli([
    "--socket",
    server.socket,
    "add",
    "c3",
    NETNS,
    "--annotations",
    `@${relay}`,
  ]);
  equal(relayed.code, 2, explain(relayed));
  ok(!relayed.stderr.includes(SECRET), relayed.stderr);
  equal((await server.stop()).code, 0);
});

Deno.test({
  name:
    "nobody, in the socket's group, cannot make serve read a root-only file",
  ignore: Deno.uid() !== 0 || ignoreWithout(CURL),
  async fn() {
    await requirePart(CURL);
    await using fake = await FakePlugins.create(["a"]);
    const bed = await bedFor(fake, [{ name: "n1", types: ["a"] }]);
    const run = join(fake.root, "run");
    await Deno.mkdir(run, { mode: 0o750 });
    await Deno.chown(run, 0, 65534);
    await Deno.chmod(fake.root, 0o711);
    await using server = await startServe(bed.socket, bed.flags);
    await Deno.chown(server.socket, 0, 65534);
    const secret = join(fake.root, "secret.json");
    await Deno.writeTextFile(secret, `{"x": "${SECRET}"`, { mode: 0o600 });
    const out = await new Deno.Command("setpriv", {
      args: [
        "--reuid=nobody",
        "--regid=nogroup",
        "--clear-groups",
        CURL,
        "-sS",
        "--unix-socket",
        server.socket,
        "-w",
        "\nstatus %{http_code}",
        "--data-binary",
        JSON.stringify({
          args: ["c1", NETNS],
          flags: { annotations: `@${secret}` },
        }),
        "http://cnishim/v1/add",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    equal(out.success, true, new TextDecoder().decode(out.stderr));
    match(text, /status 400$/);
    match(text, /--annotations/);
    ok(!text.includes(SECRET), text);
    equal((await fake.calls()).length, 0, "no plugin ran");
    equal((await server.stop()).code, 0);
  },
});
