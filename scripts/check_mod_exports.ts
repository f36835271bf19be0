// deno-lint-ignore-file no-console -- a script talks to its operator on the console
/**
 * Keeps `mod.ts` an explicit table of contents: every export is named (no
 * `export *`), and the names exported are exactly the names its module
 * JSDoc links with `{@link …}`. Exits 1 listing the differences.
 *
 * @module
 */
const path = new URL("../mod.ts", import.meta.url);
const text = await Deno.readTextFile(path);
const problems: string[] = [];

const docEnd = text.indexOf("*/");
const doc = text.startsWith("/**") && docEnd > 0 ? text.slice(0, docEnd) : "";
if (!doc.includes("@module")) problems.push("mod.ts: no @module JSDoc first");
const listed = new Set(
  [...doc.matchAll(/\{@link\s+([A-Za-z_$][\w$]*)\s*\}/g)].map((m) => m[1]!),
);

const code = text.slice(docEnd + 2);
if (/export\s+(type\s+)?\*/.test(code)) {
  problems.push("mod.ts: `export *` hides what is exported; name each export");
}
const exported = new Set<string>();
for (const m of code.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}/g)) {
  for (const item of m[1]!.split(",")) {
    // `type X`, `X as Y`: the exported name is the last word.
    const name = item.trim().split(/\s+/).at(-1);
    if (name) exported.add(name);
  }
}
if (/export\s+(const|let|function|class|interface|type\s+\w+\s*=)/.test(code)) {
  problems.push("mod.ts: declares code; it only re-exports");
}

for (const name of exported) {
  if (!listed.has(name)) {
    problems.push(`mod.ts exports ${name}, which its JSDoc does not list`);
  }
}
for (const name of listed) {
  if (!exported.has(name)) {
    problems.push(`mod.ts's JSDoc lists ${name}, which it does not export`);
  }
}

if (problems.length) {
  for (const p of problems) console.error(p);
  Deno.exit(1);
}
console.error(`mod.ts ok: ${exported.size} exports, each listed`);
