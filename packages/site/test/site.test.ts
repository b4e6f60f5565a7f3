// The course website, tested as a reader would: the built site (pnpm
// docs:build; built here when it is missing) served on a free port and opened
// in a headless Chromium, found as stage 11's browser milestone finds it
// (@xps/testkit/browser: XPS_CHROMIUM, a system Chromium, or the bundled
// @sparticuz/chromium; XPS_HIDE_SYSTEM_BROWSERS=1 forces the bundled one).
//
//   XPS_DOCS_OUT   the built site to test (default packages/site/dist)
//   XPS_DOCS_BASE  its base path, as it was built
import fs from "node:fs";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { launchChromium, type LaunchedChromium } from "@xps/testkit/browser";
import { SITE_DIR, siteOptions } from "../src/config.ts";
import { runVitepress } from "../src/docs.ts";
import { routeLink, sitePages, type SitePage } from "../src/pages.ts";
import { serveStatic, type StaticServer } from "../src/static.ts";

const opts = siteOptions();
const pages = sitePages(opts.root);
const ARTIFACTS = path.join(SITE_DIR, "test-artifacts");

let chromium: LaunchedChromium;
let browser: Browser;
let server: StaticServer;

beforeAll(async () => {
  if (!fs.existsSync(path.join(opts.outDir, "index.html"))) {
    const status = runVitepress("build");
    if (status !== 0) throw new Error(`pnpm docs:build failed (exit ${status}); see its output above`);
  }
  server = await serveStatic(opts.outDir, opts.base);
  chromium = await launchChromium();
  browser = chromium.browser;
}, 600_000);

afterAll(async () => {
  await chromium?.close();
  await server?.close();
});

/** What a page's Markdown promises: code excerpts (fenced blocks, not later-stage notes) and Mermaid diagrams. */
function promised(page: SitePage): { excerpts: number; diagrams: number } {
  const files = [page.file];
  if (page.meta !== null) files.push(path.join(path.dirname(page.file), "hints.md"));
  let excerpts = 0;
  let diagrams = 0;
  for (const f of files) {
    const file = path.join(opts.root, f);
    if (!fs.existsSync(file)) continue;
    const lines = fs.readFileSync(file, "utf8").split("\n");
    lines.forEach((l, i) => {
      if (/^\s*<!-- xps:excerpt\b/.test(l) && lines.slice(i + 1).find((x) => x.trim() !== "")?.trim().startsWith("```")) excerpts++;
      if (/^\s*```mermaid\s*$/.test(l) || l.trim() === "<!-- site:module-map -->") diagrams++;
    });
  }
  return { excerpts, diagrams };
}

/** Open a route and collect what the page logs as errors while it loads and settles. */
async function open(route: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console.error: ${m.text()}`);
  });
  page.on("pageerror", (e) => errors.push(`uncaught: ${e.message}`));
  page.on("requestfailed", (r) => errors.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
  const res = await page.goto(new URL(route.replace(/^\//, ""), server.url).href, { waitUntil: "networkidle" });
  if (res === null || res.status() !== 200) errors.push(`HTTP ${res?.status() ?? "no response"} for ${route}`);
  return { page, errors };
}

describe("the course website", () => {
  test("the home page lists every stage that exists, in order", async () => {
    const { page, errors } = await open("/");
    const rows = await page.locator(".vp-doc table tbody tr").evaluateAll((trs) =>
      trs.map((tr) => ({ n: tr.querySelector("td")?.textContent?.trim() ?? "", href: tr.querySelector("a")?.getAttribute("href") ?? "" })),
    );
    const expected = pages.filter((p) => p.stage !== null);
    expect(rows.map((r) => Number(r.n))).toEqual(expected.map((p) => p.stage));
    rows.forEach((r, i) => expect(r.href.startsWith(`${opts.base}${routeLink(expected[i]!).slice(1)}`)).toBe(true));
    expect(errors).toEqual([]);
    await page.close();
  });

  for (const p of pages.filter((x) => x.route !== "index.md")) {
    test(`${p.file}: excerpts are highlighted code, diagrams are SVG, no console error`, async () => {
      const want = promised(p);
      const { page, errors } = await open(routeLink(p));
      if (want.diagrams > 0) {
        await page.waitForFunction(`document.querySelectorAll(".vp-doc .mermaid svg").length >= ${want.diagrams}`, undefined, { timeout: 30_000 });
      }
      const highlighted = await page.locator('.vp-doc div[class*="language-ts"] pre.shiki').evaluateAll((pres) =>
        pres.filter((pre) => pre.querySelector('span.line span[style*="--shiki"]') !== null).length,
      );
      const diagrams = await page.locator(".vp-doc .mermaid svg").count();
      expect({ highlighted: Math.min(highlighted, want.excerpts), diagrams }).toEqual({ highlighted: want.excerpts, diagrams: want.diagrams });
      if (p.meta !== null && fs.existsSync(path.join(opts.root, path.dirname(p.file), "hints.md"))) {
        // The hints are folded: no level's text shows until its summary is opened.
        const unfolded = await page.locator(".vp-doc details.xps-hint[open]").count();
        const folded = await page.locator(".vp-doc details.xps-hint").count();
        expect(folded).toBeGreaterThan(0);
        expect(unfolded).toBe(0);
      }
      if (p.stage === 10) {
        fs.mkdirSync(ARTIFACTS, { recursive: true });
        await page.screenshot({ path: path.join(ARTIFACTS, "stage-10.png"), fullPage: false });
      }
      expect(errors).toEqual([]);
      await page.close();
    }, 60_000);
  }

  test('the search box finds "threshold"', async () => {
    const { page, errors } = await open("/");
    await page.locator("button.DocSearch-Button").first().click();
    const input = page.locator("#localsearch-input");
    await input.waitFor({ timeout: 15_000 });
    await input.fill("threshold");
    const results = page.locator(".VPLocalSearchBox .results li a");
    await results.first().waitFor({ timeout: 15_000 });
    const hrefs = await results.evaluateAll((as) => as.map((a) => a.getAttribute("href") ?? ""));
    expect(hrefs.length).toBeGreaterThan(0);
    expect(hrefs.some((h) => h.includes("stage-10-pipes"))).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});
