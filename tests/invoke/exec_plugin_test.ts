import { equal, ok, rejects } from "node:assert/strict";
import { processExec } from "../../src/invoke/exec_plugin.ts";
import { findPlugin } from "../../src/invoke/find_plugin.ts";
import {
  CniError,
  PluginError,
  PluginTimeoutError,
} from "../../src/spec/errors.ts";
import { FakePlugins } from "../_helpers/fake_plugins.ts";
import { killLeftovers } from "../_helpers/processes.ts";

const ENC = new TextEncoder();

function request(fake: FakePlugins, command: "ADD" | "DEL", timeoutMs = 0) {
  return {
    pluginPath: `${fake.binDir}/p`,
    pluginType: "p",
    command,
    env: {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      CNI_COMMAND: command,
    },
    stdin: ENC.encode('{"cniVersion":"1.0.0","name":"n","type":"p"}'),
    timeoutMs,
  };
}

function processesWith(marker: string): string[] {
  const found: string[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const cmd = Deno.readTextFileSync(`/proc/${e.name}/cmdline`).replaceAll(
        "\0",
        " ",
      );
      if (cmd.includes(marker)) found.push(`${e.name}: ${cmd}`);
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

Deno.test("execPlugin() kills a plugin that runs past its timeout, children included", async () => {
  await using fake = await FakePlugins.create(["p"]);
  const marker = "41.123";
  await fake.answer("p", "ADD", { sleep: Number(marker) });
  const started = performance.now();
  const error = await processExec.execPlugin(request(fake, "ADD", 300)).then(
    () => undefined,
    (e) => e,
  );
  ok(error instanceof PluginTimeoutError, String(error));
  equal(error.code, 11);
  ok(/killed after the timeout of 300 ms/.test(error.message), error.message);
  ok(performance.now() - started < 10_000);
  equal(processesWith(`sleep ${marker}`).length, 0, "no child process remains");
});

Deno.test("execPlugin() turns failures into errors as libcni does", async (t) => {
  const cases = [
    {
      name: "error object",
      answer: { stdout: '{"code":7,"msg":"bad","details":"more"}', exit: 1 },
      code: 7,
      part: "bad",
    },
    {
      name: "stderr only",
      answer: { stderr: "boom happened", exit: 3 },
      code: 0,
      part: 'boom happened": exit status 3',
    },
    {
      name: "nothing",
      answer: { exit: 4 },
      code: 0,
      part: "no error message: exit status 4",
    },
    {
      name: "garbage",
      answer: { stdout: "oops", exit: 1 },
      code: 0,
      part: 'cannot parse its error message "oops"',
    },
    {
      name: "negative code",
      answer: { stdout: '{"code":-1,"msg":"x"}', exit: 1 },
      code: 0,
      part: "cannot parse",
    },
  ];
  for (const c of cases) {
    await t.step(c.name, async () => {
      await using fake = await FakePlugins.create(["p"]);
      await fake.answer("p", "DEL", c.answer);
      const error = await processExec.execPlugin(request(fake, "DEL")).then(
        () => undefined,
        (e) => e,
      );
      ok(error instanceof PluginError, String(error));
      equal(error.code, c.code);
      ok(error.message.includes(c.part), error.message);
      ok(error.message.startsWith('Plugin "p" failed (DEL)'), error.message);
    });
  }
});

Deno.test("findPlugin() looks only in the bin dirs, in order, and refuses paths", async () => {
  await using one = await FakePlugins.create(["p"]);
  await using two = await FakePlugins.create(["p", "q"]);
  equal(await findPlugin("p", [one.binDir, two.binDir]), `${one.binDir}/p`);
  equal(await findPlugin("q", [one.binDir, two.binDir]), `${two.binDir}/q`);
  await rejects(
    findPlugin("sh", [one.binDir]),
    (e: CniError) => e.code === 5 && /"sh"/.test(e.message),
  );
  for (const bad of ["../bin/sh", "/bin/sh", "..", "", "a\0b"]) {
    await rejects(findPlugin(bad, [one.binDir]), (e: CniError) => e.code === 7);
  }
  await rejects(findPlugin("p", ["relative/dir"]), CniError);
});

// A plugin that leaves a detached child holding its stdout: `env -i`
// empties the child's environment and the subshell orphans it, so neither
// the plugin's descendants nor its CNI_* environment lead to it.
async function detachedHolder(fake: FakePlugins, then: string) {
  const marker = `1000.${crypto.getRandomValues(new Uint32Array(1))[0]}`;
  const script = `#!/bin/sh\n(env -i sleep ${marker} &)\n${then}\n`;
  await Deno.writeTextFile(`${fake.binDir}/p`, script);
  await Deno.chmod(`${fake.binDir}/p`, 0o755);
  return `sleep ${marker}`;
}

// Settles within `ms`, or says it did not; the timer goes either way.
async function within<T>(ms: number, call: Promise<T>) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      call.then((value) => ({ value }), (error) => ({ error })),
      new Promise<{ late: true }>((resolve) => {
        timer = setTimeout(() => resolve({ late: true }), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("execPlugin() is bounded when a detached child of the plugin keeps its stdout open", async (t) => {
  await using fake = await FakePlugins.create(["p"]);
  await t.step("past the timeout: code 11 within a short grace", async () => {
    const marker = await detachedHolder(fake, "sleep 30");
    try {
      const started = performance.now();
      const out = await within(
        8_000,
        processExec.execPlugin(request(fake, "ADD", 300)),
      );
      ok("error" in out, `settled with an error: ${JSON.stringify(out)}`);
      ok(out.error instanceof PluginTimeoutError, String(out.error));
      equal(out.error.code, 11);
      ok(performance.now() - started < 5_000);
      equal(processesWith(marker).length, 1, "the detached child lives on");
    } finally {
      await killLeftovers([marker], []);
    }
  });
  await t.step(
    "exited 0: its result after a bounded wait for EOF",
    async () => {
      const marker = await detachedHolder(
        fake,
        `echo '{"cniVersion":"1.0.0"}'`,
      );
      try {
        // No timeout at all: the wait for EOF is bounded by itself.
        const out = await within(
          8_000,
          processExec.execPlugin(request(fake, "ADD")),
        );
        ok("value" in out, `settled with a value: ${JSON.stringify(out)}`);
        equal(
          new TextDecoder().decode(out.value).trim(),
          '{"cniVersion":"1.0.0"}',
        );
      } finally {
        await killLeftovers([marker], []);
      }
    },
  );
});
