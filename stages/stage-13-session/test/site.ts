// What the stage 13 tests serve: a folder for python3 -m http.server (the
// upstream), and public folders for the second port, made once per test
// file in the system's temp folder.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Pattern, randomBytes } from "@xps/testkit";

export const MiB = 1024 * 1024;
export const THRESHOLD = 1_000_000;
export const REPO_PUBLIC = path.resolve(import.meta.dirname, "..", "..", "..", "public");
export const HUGE_SIZE = 64 * MiB;
export const HUGE = new Pattern(13);

export interface Site {
  /** What python serves: hello.txt, big.bin (2 MiB), huge.bin (64 MiB of HUGE). */
  upstream: string;
  files: Map<string, Buffer>;
  /** A public folder whose sample.txt is 300 KB (several chunks). */
  mediumPublic: string;
  medium: Buffer;
  /** A public folder whose sample.txt is 64 MiB of HUGE. */
  hugePublic: string;
  /** A public folder without sample.txt. */
  emptyPublic: string;
  root: string;
}

let site: Site | null = null;

function writeHuge(file: string): void {
  const fd = fs.openSync(file, "w", 0o644);
  for (let off = 0; off < HUGE_SIZE; off += 4 * MiB) fs.writeSync(fd, HUGE.slice(off, 4 * MiB));
  fs.closeSync(fd);
  fs.chmodSync(file, 0o644);
}

export function getSite(): Site {
  if (site) return site;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "xps-stage-13-"));
  const upstream = path.join(root, "upstream");
  fs.mkdirSync(upstream);
  const files = new Map<string, Buffer>([
    ["/hello.txt", Buffer.from("Hello from the upstream, through the session!\n")],
    ["/big.bin", randomBytes(2 * MiB)],
  ]);
  for (const [name, bytes] of files) fs.writeFileSync(path.join(upstream, name), bytes);
  writeHuge(path.join(upstream, "huge.bin"));
  const mediumPublic = path.join(root, "medium", "public");
  fs.mkdirSync(mediumPublic, { recursive: true });
  const medium = randomBytes(300_000);
  fs.writeFileSync(path.join(mediumPublic, "sample.txt"), medium);
  fs.chmodSync(path.join(mediumPublic, "sample.txt"), 0o644);
  const hugePublic = path.join(root, "huge", "public");
  fs.mkdirSync(hugePublic, { recursive: true });
  fs.linkSync(path.join(upstream, "huge.bin"), path.join(hugePublic, "sample.txt"));
  const emptyPublic = path.join(root, "empty", "public");
  fs.mkdirSync(emptyPublic, { recursive: true });
  site = { upstream, files, mediumPublic, medium, hugePublic, emptyPublic, root };
  return site;
}

export function removeSite(): void {
  if (site) fs.rmSync(site.root, { recursive: true, force: true });
  site = null;
}
