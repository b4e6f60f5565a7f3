// Stage 11, milestone 10: the page's own milestone, in a real browser.
// Headless Chromium (from launchChromium: XPS_CHROMIUM, a system Chromium, or
// the one `pnpm install` brings; driven by playwright-core, which never
// downloads a browser) opens the proxy port and must see python's directory
// listing; following a link must fetch the file through the proxy.
import fs from "node:fs";
import path from "node:path";
import { afterAll } from "vitest";
import { defineStage, launchChromium, startPythonUpstream } from "@xps/testkit";
import { getSite, removeSite } from "./site.ts";

const stage = defineStage(path.join(import.meta.dirname, ".."));
const ARTIFACTS = path.join(import.meta.dirname, "..", "test-artifacts");
afterAll(removeSite);

stage.milestone("m10", async (t) => {
  const chrome = await launchChromium().catch((err: unknown) => t.fail(`no browser for this check (not a fault of your code): ${(err as Error).message}`));
  t.cleanup(() => chrome.close());
  const { browser, used } = chrome;
  const site = getSite();
  const up = await startPythonUpstream(site.dir);
  t.cleanup(() => up.stop());
  const server = await t.server({ args: ["--upstream", `127.0.0.1:${up.port}`] });
  const page = await browser.newPage();
  const url = `http://127.0.0.1:${server.ports[0]}/`;
  try {
    await page.goto(url, { timeout: 10_000 });
  } catch (err) {
    t.fail(`Chromium could not load ${url} through the proxy: ${(err as Error).message.split("\n")[0]} (browser: ${used})`);
  }
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, "stage-11-listing.png"), fullPage: true });
  const heading = (await page.locator("h1").first().textContent({ timeout: 2000 }).catch(() => null)) ?? "";
  const links = await page.locator("a").allTextContents();
  for (const name of ["hello.txt", "big.bin", "files/", "huge.bin"]) {
    if (!links.includes(name)) {
      t.fail(`the page Chromium shows at ${url} does not list ${name} (heading: ${JSON.stringify(heading)}; links: ${JSON.stringify(links.slice(0, 8))}); screenshot: test-artifacts/stage-11-listing.png; browser: ${used}`);
    }
  }
  await page.locator("a", { hasText: "hello.txt" }).click();
  await page.waitForURL(/hello\.txt$/, { timeout: 5000 }).catch(() => {});
  const text = (await page.locator("body").textContent({ timeout: 5000 }).catch(() => null)) ?? "";
  if (!text.includes("Hello from the upstream!")) {
    t.fail(`after clicking hello.txt, Chromium shows ${JSON.stringify(text.slice(0, 80))} instead of the file (browser: ${used})`);
  }
  if (!/GET \/hello\.txt/.test(up.log())) t.fail("the click did not reach python's server (its log has no GET /hello.txt)");
});
