// What grading trusts: the course's tests, testkit and tooling, and the
// instructor's hidden tests. Their hashes are taken before and after every
// submission; a submission that changed one of them stops the batch.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";

const SKIP = new Set(["node_modules", ".xps", ".turbo", "test-artifacts"]);

function walk(dir: string, out: string[]): void {
  if (!fs.existsSync(dir)) return;
  const stat = fs.lstatSync(dir);
  if (!stat.isDirectory()) {
    out.push(dir);
    return;
  }
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(e.name)) continue;
    walk(path.join(dir, e.name), out);
  }
}

/** The files grading trusts: the graded stages' tests and configuration, the tooling packages, and `extra` (hidden tests). */
export function trustedFiles(root: string, stageDirs: string[], extra: string[] = []): string[] {
  const out: string[] = [];
  for (const dir of stageDirs) {
    for (const part of ["test", "vitest.config.ts", "server.ts", "package.json"]) walk(path.join(dir, part), out);
  }
  for (const part of ["testkit/src", "testkit/clients", "testkit/package.json", "course/src", "course/variant", "course/package.json", "cli/src", "cli/package.json"]) {
    walk(path.join(root, "packages", part), out);
  }
  for (const f of ["package.json", "pnpm-workspace.yaml", "tsconfig.json"]) walk(path.join(root, f), out);
  for (const e of extra) walk(e, out);
  return out.sort();
}

export type Hashes = Map<string, string>;

export function hashFiles(files: string[]): Hashes {
  const out: Hashes = new Map();
  for (const f of files) {
    try {
      out.set(f, crypto.createHash("sha256").update(fs.readFileSync(f)).digest("hex"));
    } catch {
      out.set(f, "unreadable");
    }
  }
  return out;
}

/** Files that changed, appeared or went between two hashings. */
export function changedFiles(before: Hashes, after: Hashes): string[] {
  const out: string[] = [];
  for (const [f, h] of before) if (after.get(f) !== h) out.push(f);
  for (const f of after.keys()) if (!before.has(f)) out.push(f);
  return out.sort();
}
