/**
 * The only importer of npm:jsonc-parser, loaded lazily: plain JSON never
 * pays its ~23 ms of start-up; only a file with comments or trailing
 * commas, or a broken one that needs a line:column message, does.
 *
 * @module
 */
import type { ParseError, ParseErrorCode } from "jsonc-parser";

/** A syntax error with its 1-based position. */
export interface JsoncSyntaxError {
  /** What is wrong. */
  message: string;
  /** 1-based line. */
  line: number;
  /** 1-based column. */
  column: number;
}

/** Parses JSONC; returns the value or the first syntax error. */
export async function parseJsonc(
  text: string,
): Promise<{ value: unknown } | { error: JsoncSyntaxError }> {
  const { parseTree, printParseErrorCode } = await import("jsonc-parser");
  const errors: ParseError[] = [];
  const tree = parseTree(text, errors, {
    allowTrailingComma: true,
    disallowComments: false,
  });
  const first = errors[0];
  if (!first) return { value: tree ? toValue(tree) : undefined };
  const before = text.slice(0, first.offset).split("\n");
  return {
    error: {
      message: printParseErrorCode(first.error as ParseErrorCode),
      line: before.length,
      column: (before[before.length - 1]?.length ?? 0) + 1,
    },
  };
}

interface Node {
  type: string;
  value?: unknown;
  children?: Node[];
}

// jsonc-parser's own value builder assigns keys, so a "__proto__" key would
// become a prototype; defining properties keeps it a plain key, as JSON.parse.
function toValue(node: Node): unknown {
  switch (node.type) {
    case "object": {
      const out: Record<string, unknown> = {};
      for (const prop of node.children ?? []) {
        const [key, value] = prop.children ?? [];
        if (!key || !value) continue;
        Object.defineProperty(out, String(key.value), {
          value: toValue(value),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    }
    case "array":
      return (node.children ?? []).map(toValue);
    default:
      return node.value;
  }
}
