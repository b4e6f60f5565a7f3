// Stage 11, milestone 10: the page's own milestone, in a real browser.
// Headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core;
// never a downloaded browser) opens the proxy port and must see python's
// directory listing; following a link must fetch the file through the proxy.
import fs from "node:fs";
import path from "node:path";
import { afterAll } from "vitest";
import { chromium } from "playwright-core";
import { defineStage, startPythonUpstream } from "@xps/testkit";
import { getSite, removeSite } from "./site.ts";

const stage = defineStage(path.join(import.meta.dirname, ".."));
const CHROMIUM = process.env.XPS_CHROMIUM ?? "/usr/bin/chromium";
const ARTIFACTS = path.join(import.meta.dirname, "..", "test-artifacts");
afterAll(removeSite);

stage.milestone("m10", async (t) => {
  if (!fs.existsSync(CHROMIUM)) {
    t.fail(`no Chromium at ${CHROMIUM}: install Debian's package (sudo apt-get install chromium) or point XPS_CHROMIUM at one`);
  }
  const site = getSite();
  const up = await startPythonUpstream(site.dir);
  t.cleanup(() => up.stop());
  const server = await t.server({ args: ["--upstream", `127.0.0.1:${up.port}`] });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  t.cleanup(() => browser.close());
  const page = await browser.newPage();
  const url = `http://127.0.0.1:${server.ports[0]}/`;
  try {
    await page.goto(url, { timeout: 10_000 });
  } catch (err) {
    t.fail(`Chromium could not load ${url} through the proxy: ${(err as Error).message.split("\n")[0]}`);
  }
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, "stage-11-listing.png"), fullPage: true });
  const heading = (await page.locator("h1").first().textContent({ timeout: 2000 }).catch(() => null)) ?? "";
  const links = await page.locator("a").allTextContents();
  for (const name of ["hello.txt", "big.bin", "files/", "huge.bin"]) {
    if (!links.includes(name)) {
      t.fail(`the page Chromium shows at ${url} does not list ${name} (heading: ${JSON.stringify(heading)}; links: ${JSON.stringify(links.slice(0, 8))}); screenshot: test-artifacts/stage-11-listing.png`);
    }
  }
  await page.locator("a", { hasText: "hello.txt" }).click();
  await page.waitForURL(/hello\.txt$/, { timeout: 5000 }).catch(() => {});
  const text = (await page.locator("body").textContent({ timeout: 5000 }).catch(() => null)) ?? "";
  if (!text.includes("Hello from the upstream!")) {
    t.fail(`after clicking hello.txt, Chromium shows ${JSON.stringify(text.slice(0, 80))} instead of the file`);
  }
  if (!/GET \/hello\.txt/.test(up.log())) t.fail("the click did not reach python's server (its log has no GET /hello.txt)");
});
