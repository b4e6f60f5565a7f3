// The folders the stage 12 tests serve from: the course's own public/, and
// scratch copies laid out like the official tester's (a public/ folder and,
// beside it, temp/file.txt), in which a test can make sample.txt a symbolic
// link, take away its others-read bit, or leave it out.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Pattern } from "@xps/testkit";

export const REPO = path.resolve(import.meta.dirname, "..", "..", "..");
/** The course's own public/ folder. */
export const REPO_PUBLIC = path.join(REPO, "public");
export const MiB = 1024 * 1024;
export const THRESHOLD = 1_000_000;

export interface Scratch {
  /** The folder that holds public/ and temp/ (what the tester's working directory is beside). */
  root: string;
  public: string;
  /** public/sample.txt: what the second port sends. */
  sample: string;
  /** temp/file.txt: what the third port is configured with (outside public/). */
  outside: string;
}

const made: string[] = [];

/** A fresh scratch folder: public/sample.txt holds `sample` (when given), temp/file.txt exists. */
export function scratch(sample?: Buffer | string): Scratch {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "xps-stage-12-"));
  made.push(root);
  const pub = path.join(root, "public");
  fs.mkdirSync(pub);
  fs.mkdirSync(path.join(root, "temp"));
  const outside = path.join(root, "temp", "file.txt");
  fs.writeFileSync(outside, "a file outside public/: it must never be sent\n");
  fs.chmodSync(outside, 0o644);
  const s: Scratch = { root, public: pub, sample: path.join(pub, "sample.txt"), outside };
  if (sample !== undefined) {
    fs.writeFileSync(s.sample, sample);
    fs.chmodSync(s.sample, 0o644);
  }
  return s;
}

/** Remove every scratch folder this test file made. */
export function removeScratch(): void {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

export const BIG_SIZE = 64 * MiB;
export const BIG = new Pattern(12);
let big: Scratch | null = null;

/** A scratch folder whose sample.txt is 64 MiB of BIG's pattern (made once per test file, never held in memory). */
export function bigScratch(): Scratch {
  if (big !== null) return big;
  big = scratch();
  const fd = fs.openSync(big.sample, "w", 0o644);
  for (let off = 0; off < BIG_SIZE; off += 4 * MiB) fs.writeSync(fd, BIG.slice(off, Math.min(4 * MiB, BIG_SIZE - off)));
  fs.closeSync(fd);
  fs.chmodSync(big.sample, 0o644);
  return big;
}

export function forgetBig(): void {
  big = null;
}
