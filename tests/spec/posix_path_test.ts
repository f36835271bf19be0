import { equal } from "node:assert/strict";
import { posix } from "node:path";
import {
  baseName,
  dirName,
  extName,
  joinPath,
} from "../../src/spec/posix_path.ts";

Deno.test("posix_path agrees with node:path on the paths the shim builds", async (t) => {
  const cases = [
    ["/var/lib/cni", "results", "net-c1-eth0"],
    ["/var/lib/cni/", "/results/", "x"],
    ["/a/b", "../c"],
    ["/a", "..", "..", "b"],
    ["rel", "./x", "y/"],
    ["/"],
    ["a", "..", ".."],
  ];
  for (const segments of cases) {
    await t.step(segments.join(" + "), () => {
      equal(joinPath(...segments), posix.join(...segments));
    });
  }
  for (
    const p of [
      "/a/b.conflist",
      "/a/b/",
      "b",
      "/",
      "/etc/cni/net.d/10-x.conf",
      ".conf",
      "a.conflist.bak",
    ]
  ) {
    await t.step(p, () => {
      equal(dirName(p), posix.dirname(p), `dirname ${p}`);
      equal(baseName(p), posix.basename(p), `basename ${p}`);
      if (p !== ".conf") equal(extName(p), posix.extname(p), `extname ${p}`);
    });
  }
  equal(
    extName(".conf"),
    ".conf",
    "Go's filepath.Ext, unlike node, sees .conf as an extension",
  );
});
