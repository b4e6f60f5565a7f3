// The folder the tests' python3 -m http.server serves: /0, /1 and /2 (random
// bytes, as the official tester requests), a text file for the browser, and a
// 48 MiB /big.bin for the slow reader, made from a Pattern so that it can be
// checked as it arrives.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Pattern, randomBytes } from "@xps/testkit";

export interface Site {
  dir: string;
  files: Map<string, Buffer>;
  big: Pattern;
  bigSize: number;
}

const MiB = 1024 * 1024;
let site: Site | null = null;

export const HELLO = "Hello through the stage 5 proxy!\n";

/** Made once per test file, in the system's temp folder. */
export function getSite(): Site {
  if (site) return site;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xps-stage-05-site-"));
  const files = new Map<string, Buffer>();
  const put = (name: string, bytes: Buffer): void => {
    fs.writeFileSync(path.join(dir, name), bytes);
    files.set(`/${name}`, bytes);
  };
  put("0", randomBytes(20_000));
  put("1", randomBytes(300_000));
  put("2", randomBytes(2 * MiB));
  put("hello.txt", Buffer.from(HELLO));
  const big = new Pattern(5);
  const bigSize = 48 * MiB;
  const fd = fs.openSync(path.join(dir, "big.bin"), "w");
  for (let off = 0; off < bigSize; off += 4 * MiB) fs.writeSync(fd, big.slice(off, Math.min(4 * MiB, bigSize - off)));
  fs.closeSync(fd);
  site = { dir, files, big, bigSize };
  return site;
}

export function removeSite(): void {
  if (site) fs.rmSync(site.dir, { recursive: true, force: true });
  site = null;
}
