// The folder the tests' python3 -m http.server serves: known files whose
// bytes the tests compare with what arrives through the proxy.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Pattern, randomBytes, randomText } from "@xps/testkit";

export interface Site {
  dir: string;
  files: Map<string, Buffer>;
  /** /huge.bin is this pattern's first `hugeSize` bytes (kept out of memory). */
  huge: Pattern;
  hugeSize: number;
  /** /medium.bin, likewise: more than the kernel's buffers and the proxy's hold at once. */
  medium: Pattern;
  mediumSize: number;
}

const MiB = 1024 * 1024;
let site: Site | null = null;

/** Made once per test file, in the system's temp folder. */
export function getSite(): Site {
  if (site) return site;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xps-stage-11-site-"));
  const files = new Map<string, Buffer>();
  const put = (name: string, bytes: Buffer): void => {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), bytes);
    files.set(`/${name}`, bytes);
  };
  put("hello.txt", Buffer.from("Hello from the upstream!\nThis file came through eXpServer's proxy.\n"));
  put("big.bin", randomBytes(5 * MiB));
  for (let i = 1; i <= 12; i++) put(`files/f${String(i).padStart(2, "0")}.txt`, randomText(10_000 + i * 3_000));
  const putPattern = (name: string, pattern: Pattern, size: number): void => {
    const fd = fs.openSync(path.join(dir, name), "w");
    for (let off = 0; off < size; off += 4 * MiB) fs.writeSync(fd, pattern.slice(off, Math.min(4 * MiB, size - off)));
    fs.closeSync(fd);
  };
  const huge = new Pattern(11);
  const hugeSize = 64 * MiB;
  putPattern("huge.bin", huge, hugeSize);
  const medium = new Pattern(12);
  const mediumSize = 12 * MiB;
  putPattern("medium.bin", medium, mediumSize);
  site = { dir, files, huge, hugeSize, medium, mediumSize };
  return site;
}

export function removeSite(): void {
  if (site) fs.rmSync(site.dir, { recursive: true, force: true });
  site = null;
}
