// Command-line arguments of a script run through pnpm, and "is this file the
// script node was asked to run?".
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * process.argv without node and the script. pnpm 12 passes a literal "--"
 * through (`pnpm start -- --ports ...`); it separates nothing here, so a
 * leading one is dropped.
 */
export function scriptArgs(argv: string[] = process.argv): string[] {
  const args = argv.slice(2);
  return args[0] === "--" ? args.slice(1) : args;
}

function real(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

/**
 * True when the module whose `import.meta.url` is given is the script node
 * runs (`node file.ts`, `tsx file.ts`). URLs are percent-encoded and argv is
 * not, so the two are compared as real file paths: a checkout under
 * "My Course é/" must work like any other.
 */
export function isMainModule(importMetaUrl: string, argv: string[] = process.argv): boolean {
  const script = argv[1];
  if (script === undefined || !importMetaUrl.startsWith("file:")) return false;
  return real(fileURLToPath(importMetaUrl)) === real(script);
}
