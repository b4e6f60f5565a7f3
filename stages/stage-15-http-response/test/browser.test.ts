// Stage 15, milestone 8: a real browser. Headless Chromium (launchChromium:
// XPS_CHROMIUM, a system Chromium, or the one `pnpm install` brings; driven
// by playwright-core, which never downloads one) opens a page served by the
// stage's server, shows the image the page names, and its network log must
// have each response's status and headers as the server sent them.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { defineStage, launchChromium, type MilestoneContext } from "@xps/testkit";
import { IMF_FIXDATE, REPO_PUBLIC } from "../../stage-14-http-request/test/exchange.ts";

const stage = defineStage(path.join(import.meta.dirname, ".."));
const ARTIFACTS = path.join(import.meta.dirname, "..", "test-artifacts");

stage.milestone("m8", async (t: MilestoneContext) => {
  const chrome = await launchChromium().catch((err: unknown) => t.fail(`no browser for this check (not a fault of your code): ${(err as Error).message}`));
  t.cleanup(() => chrome.close());
  const { browser, used } = chrome;
  // A public folder with a page that shows the course's JPEG.
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "xps-stage-15-"));
  t.cleanup(() => fs.rmSync(root, { recursive: true, force: true }));
  fs.copyFileSync(path.join(REPO_PUBLIC, "cat.jpg"), path.join(root, "cat.jpg"));
  fs.writeFileSync(path.join(root, "page.html"), '<!doctype html><html><head><meta charset="utf-8"><title>eXpServer</title></head><body><h1>A cat</h1><img id="cat" src="/cat.jpg" alt="a cat"></body></html>\n');
  for (const f of ["cat.jpg", "page.html"]) fs.chmodSync(path.join(root, f), 0o644);
  const server = await t.server({ args: ["--public", root] });
  const page = await browser.newPage();
  const log = new Map<string, { status: number; headers: Record<string, string> }>();
  page.on("response", (r) => {
    void r.allHeaders().then((headers) => log.set(new URL(r.url()).pathname, { status: r.status(), headers }));
  });
  const url = `http://127.0.0.1:${server.ports[0]}/page.html`;
  try {
    await page.goto(url, { timeout: 15_000, waitUntil: "load" });
  } catch (err) {
    t.fail(`Chromium could not load ${url}: ${(err as Error).message.split("\n")[0]} (browser: ${used})`);
  }
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, "stage-15-page.png"), fullPage: true }).catch(() => {});
  type Img = { complete: boolean; naturalWidth: number; naturalHeight: number };
  const size = await page
    .locator("#cat")
    .evaluate((img: Img) => ({ complete: img.complete, w: img.naturalWidth, h: img.naturalHeight }), undefined, { timeout: 5000 })
    .catch(() => null);
  if (size === null || !size.complete || size.w !== 160 || size.h !== 120) {
    t.fail(`the page at ${url} does not show the 160x120 JPEG (the image is ${JSON.stringify(size)}); screenshot: test-artifacts/stage-15-page.png; browser: ${used}`);
  }
  for (let i = 0; i < 20 && log.size < 2; i++) await new Promise((r) => setTimeout(r, 100));
  const want: [string, number, string, number][] = [
    ["/page.html", 200, "text/html", fs.statSync(path.join(root, "page.html")).size],
    ["/cat.jpg", 200, "image/jpeg", fs.statSync(path.join(root, "cat.jpg")).size],
  ];
  for (const [p, status, type, length] of want) {
    const r = log.get(p);
    if (r === undefined) t.fail(`Chromium's network log has no response for ${p} (it has ${JSON.stringify([...log.keys()])}; browser: ${used})`);
    const problems: string[] = [];
    if (r.status !== status) problems.push(`status ${r.status}`);
    if (r.headers["content-type"] !== type) problems.push(`content-type ${JSON.stringify(r.headers["content-type"])}`);
    if (r.headers["content-length"] !== String(length)) problems.push(`content-length ${JSON.stringify(r.headers["content-length"])}, the file has ${length} bytes`);
    if (r.headers["server"] !== "eXpServer") problems.push(`server ${JSON.stringify(r.headers["server"])}`);
    if (!IMF_FIXDATE.test(r.headers["date"] ?? "")) problems.push(`date ${JSON.stringify(r.headers["date"])}, not IMF-fixdate`);
    if (r.headers["access-control-allow-origin"] !== "*") problems.push(`access-control-allow-origin ${JSON.stringify(r.headers["access-control-allow-origin"])}`);
    if (problems.length > 0) t.fail(`Chromium's network log for ${p}: ${problems.join("; ")} (browser: ${used})`);
  }
  const missing = await page.goto(`http://127.0.0.1:${server.ports[1]}/missing.png`, { timeout: 10_000 }).catch(() => null);
  if (missing === null || missing.status() !== 404) t.fail(`Chromium sees ${missing === null ? "no response" : `status ${missing.status()}`} for a missing file; it should see 404 (browser: ${used})`);
});
