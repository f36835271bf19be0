/**
 * Polling for a condition another process brings about.
 *
 * @module
 */

/**
 * Polls `probe` every 50 ms until it holds; returns the milliseconds it
 * took.
 *
 * @throws {Error} naming `what` when it does not hold within `ms`
 */
export async function waitFor(
  probe: () => Promise<boolean>,
  ms: number,
  what = "the condition",
): Promise<number> {
  const start = performance.now();
  while (!(await probe())) {
    if (performance.now() - start > ms) {
      throw new Error(`Timed out: ${what} did not hold within ${ms} ms`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return performance.now() - start;
}
