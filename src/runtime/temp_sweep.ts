/**
 * Sweeping the temp files interrupted writes left in the cache dir (the
 * results and the pod records): a container's own when an operation finds
 * that the previous one on it died midway, every one in `gc`, and old ones
 * at `serve` start-up.
 *
 * @module
 */
import { joinPath } from "../spec/posix_path.ts";
import { ownedCacheName, sweepTempFiles } from "../cache/temp_files.ts";
import { podRecordDir } from "./pod_record.ts";

/**
 * How old a temp file must be for {@link sweepStaleTemps} without the GC
 * lock: far longer than any write takes (create, a few KB, fdatasync,
 * rename), so that a write in progress is never taken for a stale one.
 */
export const STALE_TEMP_AGE_MS = 10 * 60_000;

/**
 * Removes `containerId`'s temp files. Only while holding its container lock:
 * every writer of its files holds that lock, so none is being written.
 * Returns what was removed (`results/…`, `cnishim/pods/…`).
 */
export async function sweepContainerTemps(
  cacheDir: string,
  containerId: string,
): Promise<string[]> {
  const [results, pods] = await Promise.all([
    sweepTempFiles(joinPath(cacheDir, "results"), {
      owned: (name) => ownedCacheName(cacheDir, name, containerId),
    }),
    sweepTempFiles(podRecordDir(cacheDir), {
      owned: (name) => name === `${containerId}.json`,
    }),
  ]);
  return [
    ...results.map((n) => `results/${n}`),
    ...pods.map((n) => `cnishim/pods/${n}`),
  ];
}

/**
 * Removes the temp files of every container: those at least `minAgeMs`
 * old, or all of them (`0`) while holding the GC lock exclusively, when
 * no ADD or DEL writes.
 */
export async function sweepStaleTemps(
  cacheDir: string,
  minAgeMs: number,
): Promise<string[]> {
  const [results, pods] = await Promise.all([
    sweepTempFiles(joinPath(cacheDir, "results"), { minAgeMs }),
    sweepTempFiles(podRecordDir(cacheDir), { minAgeMs }),
  ]);
  return [
    ...results.map((n) => `results/${n}`),
    ...pods.map((n) => `cnishim/pods/${n}`),
  ];
}
