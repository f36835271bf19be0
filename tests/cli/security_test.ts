import { equal, ok } from "node:assert/strict";
import { join } from "node:path";
import { runCli } from "../../src/cli/run_cli.ts";
import { PLUGIN_ENV_PASSTHROUGH } from "../../src/cli/settings.ts";
import { redact } from "../../src/log/logger.ts";
import { FakePlugins } from "../_helpers/fake_plugins.ts";

async function cli(argv: string[], env: Record<string, string>) {
  let stdout = "";
  let stderr = "";
  const code = await runCli(argv, {
    stdout: (s) => stdout += s,
    stderr: (s) => stderr += s,
    readStdin: () => Promise.resolve(""),
    env,
  });
  return { code, stdout, stderr };
}

Deno.test("plugins get an environment built explicitly, and secrets stay out of the logs", async () => {
  await using fake = await FakePlugins.create(["a", "b"]);
  const conf = await fake.writeConfDir({
    "10-s.conflist": {
      cniVersion: "1.0.0",
      name: "s",
      plugins: [{
        type: "a",
        password: "hunter2",
        auth: { token: "s3cr3t-token" },
      }, { type: "b" }],
    },
  });
  await fake.answer("b", "ADD", {
    stdout: { code: 7, msg: "refusing" },
    exit: 1,
  });
  const log = join(fake.root, "cnishim.log");
  const config = join(fake.root, "config.json");
  await Deno.writeTextFile(config, "{}");
  const env = {
    PATH: "/usr/bin:/bin",
    LANG: "C.UTF-8",
    AWS_SECRET_ACCESS_KEY: "do-not-leak",
    KUBECONFIG: "/root/.kube/config",
    CNI_COMMAND: "ADD",
    CNISHIM_LOG_LEVEL: "debug",
  };
  const r = await cli([
    "add",
    "s1",
    "/proc/self/ns/net",
    ...fake.cliFlags(conf, config),
    "--log-file",
    log,
    "--no-loopback",
  ], env);
  equal(r.code, 1, r.stderr);
  const calls = await fake.calls();
  ok(calls.length >= 2);
  for (const call of calls) {
    const names = Object.keys(call.env).filter((k) =>
      !k.startsWith("CNI_") && !["PWD", "SHLVL", "_"].includes(k)
    );
    ok(
      names.every((n) => PLUGIN_ENV_PASSTHROUGH.includes(n)),
      `unexpected variables: ${names}`,
    );
    equal(call.env.AWS_SECRET_ACCESS_KEY, undefined);
    equal(call.env.KUBECONFIG, undefined);
    equal(call.env.LANG, "C.UTF-8");
    ok(call.env.CNI_COMMAND === "ADD" || call.env.CNI_COMMAND === "DEL");
  }
  const text = await Deno.readTextFile(log);
  ok(text.includes("refusing"), "the failure is logged");
  for (const secret of ["hunter2", "s3cr3t-token", "do-not-leak"]) {
    ok(!text.includes(secret), `log leaks ${secret}`);
  }
  equal((await Deno.stat(log)).mode! & 0o777, 0o600);
});

Deno.test("redact() hides secret-looking fields at any depth", () => {
  const out = JSON.stringify(redact({
    name: "n",
    plugins: [{
      type: "x",
      password: "p",
      nested: { apiToken: "t", kubeconfig: "k", certFile: "c" },
    }],
  }));
  for (const s of ['"p"', '"t"', '"k"', '"c"']) ok(!out.includes(s), out);
  ok(out.includes('"type":"x"'));
});
