/**
 * Engine options resolved once: the runtime hands its resolution to the
 * engine verbs, and each plugin type is looked up once per resolution.
 *
 * @module
 */
import { equal, rejects } from "node:assert/strict";
import { join } from "node:path";
import { resolveEngineOptions } from "../../src/engine/engine_options.ts";
import type { CniError } from "../../src/spec/errors.ts";
import { createTempDir } from "../_helpers/shell.ts";

Deno.test("resolveEngineOptions() returns resolved options as they are, and fills defaults once", () => {
  const resolved = resolveEngineOptions({ binDirs: ["/x"], env: {} });
  equal(resolveEngineOptions(resolved), resolved);
  equal(resolved.cacheDir, "/var/lib/cni");
  equal(resolved.timeoutMs, 60_000);
  // A copy is options like any other: resolved again, not trusted.
  const copy = resolveEngineOptions({ ...resolved });
  equal(copy === resolved, false);
  equal(copy.binDirs, resolved.binDirs);
});

Deno.test("findPlugin() of resolved options looks each type up once per resolution", async () => {
  await using tmp = await createTempDir("cnishim-engine-options-");
  const plugin = join(tmp.path, "a");
  await Deno.writeTextFile(plugin, "#!/bin/sh\n");
  const first = resolveEngineOptions({ binDirs: [tmp.path], env: {} });
  equal(await first.findPlugin("a"), plugin);
  await Deno.remove(plugin);
  // The same resolution (one pod's setup) keeps the path it found...
  equal(await first.findPlugin("a"), plugin);
  // ...a new one looks again.
  await rejects(
    resolveEngineOptions({ binDirs: [tmp.path], env: {} }).findPlugin("a"),
    (e: CniError) => e.code === 5 && /Cannot find plugin "a"/.test(e.message),
  );
});
