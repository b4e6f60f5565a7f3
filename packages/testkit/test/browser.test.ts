// The Chromium finder's order, with fake browsers (shell scripts that answer
// --version) on a temporary PATH, and one real launch.
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { ChromiumUnavailableError, findChromium, findSystemChromium, launchChromium, systemCandidates } from "../src/browser.ts";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "xps-browser-test-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

let n = 0;
/** A folder holding fake browsers: name -> what `--version` prints (or a failing script). */
function binDir(fakes: Record<string, string | { fail: string }>): string {
  const dir = path.join(root, `bin${n++}`);
  fs.mkdirSync(dir);
  for (const [name, answer] of Object.entries(fakes)) {
    const body = typeof answer === "string" ? `echo "${answer}"` : `echo "${answer.fail}" >&2; exit 1`;
    fs.writeFileSync(path.join(dir, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  }
  return dir;
}

/** An environment whose PATH is only `dirs` (plus /bin for sh), nothing else set. */
function envWith(dirs: string[], extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { PATH: [...dirs, "/bin"].join(path.delimiter), ...extra };
}

const noFallback = { fallbackDirs: [] };

/** The command lines of this process's children (Linux /proc). */
function childCommandLines(): string[][] {
  const lines: string[][] = [];
  for (const pid of fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) !== process.pid) continue;
      lines.push(fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0"));
    } catch {
      // gone
    }
  }
  return lines;
}

describe("the system browser search", () => {
  test("XPS_CHROMIUM comes first, before anything on PATH", () => {
    const onPath = binDir({ chromium: "Chromium 1.0 (on PATH)" });
    const chosen = path.join(binDir({ "my-browser": "Chromium 2.0 (chosen)" }), "my-browser");
    const found = findSystemChromium(envWith([onPath], { XPS_CHROMIUM: chosen }), noFallback);
    expect(found).toMatchObject({ executablePath: chosen, source: "XPS_CHROMIUM" });
    expect(found?.used).toBe(`XPS_CHROMIUM=${chosen} (Chromium 2.0 (chosen))`);
  });

  test("XPS_CHROMIUM that cannot be used is an error naming it, never a fallback", () => {
    const onPath = binDir({ chromium: "Chromium 1.0" });
    const env = (v: string): NodeJS.ProcessEnv => envWith([onPath], { XPS_CHROMIUM: v });
    const missing = path.join(root, "no-such-browser");
    expect(() => findSystemChromium(env(missing), noFallback)).toThrow(ChromiumUnavailableError);
    expect(() => findSystemChromium(env(missing), noFallback)).toThrow(`XPS_CHROMIUM=${missing} does not exist`);
    const plain = path.join(root, "not-executable");
    fs.writeFileSync(plain, "#!/bin/sh\necho 1.0\n", { mode: 0o644 });
    expect(() => findSystemChromium(env(plain), noFallback)).toThrow(`XPS_CHROMIUM=${plain} is not executable`);
    expect(() => findSystemChromium(env(root), noFallback)).toThrow(`XPS_CHROMIUM=${root} is not a file`);
    const broken = path.join(binDir({ broken: { fail: "segfault" } }), "broken");
    expect(() => findSystemChromium(env(broken), noFallback)).toThrow(`XPS_CHROMIUM=${broken} does not run`);
  });

  test("on PATH the names are tried in order: chromium, chromium-browser, google-chrome, google-chrome-stable", () => {
    const first = binDir({ "google-chrome-stable": "Chrome 4.0", "google-chrome": "Chrome 3.0" });
    const second = binDir({ "chromium-browser": "Chromium 2.0" });
    const env = envWith([first, second]);
    expect(systemCandidates(env, noFallback)).toEqual([
      path.join(second, "chromium-browser"),
      path.join(first, "google-chrome"),
      path.join(first, "google-chrome-stable"),
    ]);
    expect(findSystemChromium(env, noFallback)?.executablePath).toBe(path.join(second, "chromium-browser"));
    expect(findSystemChromium(env, noFallback)?.used).toBe(`system ${path.join(second, "chromium-browser")} (Chromium 2.0)`);
  });

  test("one name on several PATH folders: the first folder wins, as with `which`", () => {
    const a = binDir({ chromium: "Chromium 1.0 A" });
    const b = binDir({ chromium: "Chromium 1.0 B" });
    expect(findSystemChromium(envWith([a, b]), noFallback)?.executablePath).toBe(path.join(a, "chromium"));
  });

  test("the fallback folder (/usr/bin by default) is searched after PATH", () => {
    const onPath = binDir({ "google-chrome": "Chrome 3.0" });
    const usrBin = binDir({ chromium: "Chromium 1.0" });
    expect(systemCandidates(envWith([onPath]), { fallbackDirs: [usrBin] })).toEqual([path.join(onPath, "google-chrome"), path.join(usrBin, "chromium")]);
    expect(findSystemChromium(envWith([]), { fallbackDirs: [usrBin] })?.executablePath).toBe(path.join(usrBin, "chromium"));
    expect(systemCandidates(envWith([]), {})).toEqual(systemCandidates(envWith([]), { fallbackDirs: ["/usr/bin"] }));
  });

  test("a candidate that does not answer --version (Ubuntu's snap shim, say) is skipped", () => {
    const shim = binDir({ chromium: { fail: "Command '/usr/bin/chromium' requires the chromium snap to be installed." } });
    const real = binDir({ "google-chrome": "Google Chrome 120.0" });
    const found = findSystemChromium(envWith([shim, real]), noFallback);
    expect(found?.executablePath).toBe(path.join(real, "google-chrome"));
    expect(found?.skipped).toEqual([`${path.join(shim, "chromium")}: \`${path.join(shim, "chromium")} --version\` exited 1: Command '/usr/bin/chromium' requires the chromium snap to be installed.`]);
  });

  test("nothing on PATH and nothing in the fallback folders: no system browser", () => {
    expect(findSystemChromium(envWith([binDir({ "not-a-browser": "1.0" })]), noFallback)).toBeNull();
  });

  test("XPS_HIDE_SYSTEM_BROWSERS=1 hides them all, XPS_CHROMIUM too; 0 hides none", () => {
    const onPath = binDir({ chromium: "Chromium 1.0" });
    const chosen = path.join(binDir({ mine: "Chromium 2.0" }), "mine");
    expect(findSystemChromium(envWith([onPath], { XPS_HIDE_SYSTEM_BROWSERS: "1", XPS_CHROMIUM: chosen }), { fallbackDirs: [onPath] })).toBeNull();
    expect(findSystemChromium(envWith([onPath], { XPS_HIDE_SYSTEM_BROWSERS: "1" }))).toBeNull();
    expect(findSystemChromium(envWith([onPath], { XPS_HIDE_SYSTEM_BROWSERS: "0" }), noFallback)?.executablePath).toBe(path.join(onPath, "chromium"));
  });
});

describe("the bundled Chromium", () => {
  test("is what findChromium gives when no system browser is there", async () => {
    const found = await findChromium(envWith([binDir({})], { XPS_HIDE_SYSTEM_BROWSERS: "1", XPS_CHROMIUM: "/nonexistent" }), noFallback);
    expect(found.source).toBe("bundled");
    expect(found.used).toMatch(/^bundled @sparticuz\/chromium 143\.\d+\.\d+ \(unpacked in .+\)$/);
    expect(fs.statSync(found.executablePath).mode & 0o111).not.toBe(0);
    expect(found.env.LD_LIBRARY_PATH).toBe(path.join(path.dirname(found.executablePath), "lib"));
    expect(fs.existsSync(path.join(found.env.LD_LIBRARY_PATH!, "libnss3.so"))).toBe(true);
    expect(fs.readFileSync(path.join(found.env.FONTCONFIG_PATH!, "fonts.conf"), "utf8")).toContain(`<dir>${found.env.FONTCONFIG_PATH}/fonts</dir>`);
  }, 120_000);

  test("when it cannot be unpacked, the error says where, why, and what to do", async () => {
    const env = { ...envWith([], { XPS_HIDE_SYSTEM_BROWSERS: "1" }), TMPDIR: "/proc/xps-no-such-folder" };
    const err = await findChromium(env, noFallback).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ChromiumUnavailableError);
    expect((err as Error).message).toMatch(/^could not unpack the bundled Chromium into \/proc\/xps-no-such-folder: ENOENT.*; or set XPS_CHROMIUM=\/path\/to\/chromium$/);
  });
});

test("a real launch loads a localhost page, reads its title and takes a screenshot", async () => {
  const server = http.createServer((_req, res) => {
    res.setHeader("content-type", "text/html");
    res.end("<!doctype html><title>xps browser check</title><h1 style='background:#c00'>Hello</h1>");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  const started = Date.now();
  const chrome = await launchChromium();
  const launchMs = Date.now() - started;
  try {
    const page = await chrome.browser.newPage();
    await page.goto(`http://127.0.0.1:${port}/`, { timeout: 10_000 });
    expect(await page.title(), chrome.used).toBe("xps browser check");
    expect((await page.screenshot()).length, chrome.used).toBeGreaterThan(1000);
    // The profile Playwright gave it is a fresh temporary folder...
    const argv = childCommandLines().find((a) => a.some((x) => x.startsWith("--user-data-dir="))) ?? [];
    const profile = argv.find((a) => a.startsWith("--user-data-dir="))?.slice("--user-data-dir=".length);
    expect(profile, argv.join(" ")).toMatch(new RegExp(`^${os.tmpdir()}/playwright_chromiumdev_profile-`));
    expect(fs.existsSync(profile!)).toBe(true);
    await chrome.close();
    // ...removed when the browser closes.
    expect(fs.existsSync(profile!)).toBe(false);
    console.log(`launched ${chrome.used} in ${launchMs} ms${chrome.found.unpacked ? " (unpacked it first)" : ""}`);
  } finally {
    await chrome.close().catch(() => {});
    server.close();
  }
}, 120_000);
