// isMainModule must work in a checkout whose path a URL has to encode.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { expect, test } from "vitest";
import { isMainModule, scriptArgs } from "../src/args.ts";

test("scriptArgs drops pnpm's leading --", () => {
  expect(scriptArgs(["node", "x.ts", "--", "--ports", "1"])).toEqual(["--ports", "1"]);
  expect(scriptArgs(["node", "x.ts", "--ports", "1"])).toEqual(["--ports", "1"]);
});

test("isMainModule compares real paths, not a percent-encoded URL with argv", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "My Course é "));
  try {
    const file = path.join(dir, "main #1.mjs");
    fs.writeFileSync(file, "");
    const url = pathToFileURL(file).href;
    expect(url).toContain("%20"); // what the old comparison with argv got wrong
    expect(isMainModule(url, ["node", file])).toBe(true);
    expect(isMainModule(url, ["node", path.relative(process.cwd(), file)])).toBe(true);
    expect(isMainModule(url, ["node", path.join(dir, "other.mjs")])).toBe(false);
    expect(isMainModule(url, ["node"])).toBe(false);
    // And for real: a script under that folder that asks about itself.
    const args = path.join(import.meta.dirname, "..", "src", "args.ts");
    fs.writeFileSync(file, `import { isMainModule } from ${JSON.stringify(pathToFileURL(args).href)};\nconsole.log(isMainModule(import.meta.url) ? "main" : "not main");\n`);
    const r = spawnSync(process.execPath, ["--import", "tsx", file], { encoding: "utf8", cwd: path.join(import.meta.dirname, "..") });
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe("main");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
