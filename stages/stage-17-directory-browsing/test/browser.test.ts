// Stage 17, milestones 6 and 7 (its names): a real browser. Headless
// Chromium (launchChromium: XPS_CHROMIUM, a system Chromium, or the one
// `pnpm install` brings) reads the listings as a person would: it clicks
// through them, and it shows hostile file names as text, or runs them.
import fs from "node:fs";
import path from "node:path";
import { defineStage, launchChromium, type MilestoneContext } from "@xps/testkit";
import { REPO_PUBLIC, tempDir } from "../../stage-16-config/test/configs.ts";
import { HOSTILE_NAMES } from "./listing.ts";
import { expectListing, makeTree, mediaType, serveFolder } from "./site.ts";

const stage = defineStage(path.join(import.meta.dirname, ".."));
type Browser = Awaited<ReturnType<typeof launchChromium>>["browser"];
type Page = Awaited<ReturnType<Browser["newPage"]>>;
type Anchor = { textContent: string | null; href: string; getAttribute(name: string): string | null };
const ARTIFACTS = path.join(import.meta.dirname, "..", "test-artifacts");

async function chromium(t: MilestoneContext): Promise<{ browser: Browser; used: string }> {
  const chrome = await launchChromium().catch((err: unknown) => t.fail(`no browser for this check (not a fault of your code): ${(err as Error).message}`));
  t.cleanup(() => chrome.close());
  return chrome;
}

/** The links of the page's table, as the browser has them: text, href as written, and the address it resolves to. */
async function links(page: Page): Promise<{ text: string; href: string; url: string }[]> {
  return page.$$eval("table tr td a", (as) => (as as unknown as Anchor[]).map((a) => ({ text: a.textContent ?? "", href: a.getAttribute("href") ?? "", url: a.href })));
}

/** Elements that only a file name could have put into the page (its names hold <img ...> and <b>). */
async function fromNames(page: Page): Promise<string[]> {
  return page.$$eval("img, script, b, iframe, svg, object", (els) => (els as unknown as { outerHTML: string }[]).map((e) => e.outerHTML.slice(0, 80)));
}

/** What the page shows as text (a text file's content, in Chromium's viewer). */
async function bodyText(page: Page): Promise<string> {
  return (await page.locator("body").innerText({ timeout: 5_000 }).catch(() => "")) ?? "";
}

async function shot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, name), fullPage: true }).catch(() => {});
  return `test-artifacts/${name}`;
}

/** Click the table's link whose text is exactly `text`, and wait for the page it leads to. */
async function follow(t: MilestoneContext, page: Page, text: string, used: string): Promise<number> {
  const all = await links(page);
  const link = all.find((l) => l.text === text);
  if (link === undefined) t.fail(`Chromium finds no link (table tr td a) whose text is ${JSON.stringify(text)} on ${page.url()}; the links say ${JSON.stringify(all.map((l) => l.text))} (browser: ${used})`);
  const [response] = await Promise.all([
    page.waitForNavigation({ timeout: 15_000 }).catch(() => null),
    page.locator("table tr td a").nth(all.indexOf(link)).click({ timeout: 5_000 }).catch(() => null),
  ]);
  if (response === null) t.fail(`clicking ${JSON.stringify(text)} (href ${JSON.stringify(link.href)}) on ${page.url()} led nowhere within 15 s; screenshot: ${await shot(page, "stage-17-click.png")} (browser: ${used})`);
  if (new URL(page.url()).pathname !== new URL(link.url).pathname) t.fail(`clicking ${JSON.stringify(text)} led to ${page.url()}, not ${link.url}`);
  return response.status();
}

stage.milestone("m6", async (t: MilestoneContext) => {
  const { browser, used } = await chromium(t);
  const port = await serveFolder(t, REPO_PUBLIC);
  const page = await browser.newPage();
  const base = `http://127.0.0.1:${port}`;
  const first = await page.goto(`${base}/`, { timeout: 15_000 }).catch((err: unknown) => t.fail(`Chromium could not load ${base}/: ${(err as Error).message.split("\n")[0]} (browser: ${used})`));
  if (first === null || first.status() !== 200) t.fail(`Chromium gets ${first === null ? "no response" : `status ${first.status()}`} for ${base}/, the listing of the public folder (browser: ${used})`);
  if ((await page.title()) !== "Directory: /") t.fail(`the listing of / has the title ${JSON.stringify(await page.title())} in Chromium, not "Directory: /"`);
  const top = await links(page);
  const wanted = ["cat.jpg", "sample.pdf", "sample.txt", "test/", "xps_config.json"];
  const shown = top.map((l) => l.text);
  if (wanted.some((w) => !shown.includes(w))) t.fail(`Chromium shows the links ${JSON.stringify(shown)} in the listing of /; it must show ${JSON.stringify(wanted)} (screenshot: ${await shot(page, "stage-17-listing.png")})`);
  const status = await follow(t, page, "test/", used);
  if (status !== 200 || (await page.title()) !== "Directory: /test/") t.fail(`after clicking test/, Chromium shows ${JSON.stringify(await page.title())} with status ${status}, not the listing "Directory: /test/" (screenshot: ${await shot(page, "stage-17-listing.png")})`);
  await shot(page, "stage-17-listing.png");
  const inner = (await links(page)).map((l) => `${l.text} -> ${new URL(l.url).pathname}`).sort();
  const want = ["cat.jpg -> /test/cat.jpg", "sample.pdf -> /test/sample.pdf", "sample.txt -> /test/sample.txt"];
  if (JSON.stringify(inner) !== JSON.stringify(want)) t.fail(`the listing of /test in Chromium links ${JSON.stringify(inner)}, not ${JSON.stringify(want)}`);
  const fileStatus = await follow(t, page, "sample.txt", used);
  const text = await bodyText(page);
  const file = fs.readFileSync(path.join(REPO_PUBLIC, "test", "sample.txt"), "utf8");
  if (fileStatus !== 200 || text.trim() !== file.trim()) t.fail(`after clicking sample.txt in the listing of /test, Chromium shows status ${fileStatus} and ${JSON.stringify(text.slice(0, 80))}, not the file (${JSON.stringify(file.slice(0, 80))})`);
}, { timeout: 120_000 });

stage.check("m7", "hostile names show as text in Chromium, and each link fetches its file", async (t: MilestoneContext) => {
  const { browser, used } = await chromium(t);
  const root = path.join(tempDir(t), "hostile");
  const folder = `dir <b>bold & "q" 'é'`;
  const entries: Record<string, string> = { [`${folder}/`]: "", [`${folder}/inside & out.txt`]: "inside\n" };
  for (const name of HOSTILE_NAMES) entries[name] = `the file named ${name}\n`;
  makeTree(root, entries);
  const port = await serveFolder(t, root);
  // The reply itself first: complete, and a Content-Length that counts bytes (the names are not ASCII).
  await expectListing(t, port, "/");
  const page = await browser.newPage();
  const dialogs: string[] = [];
  page.on("dialog", (d) => {
    dialogs.push(d.message());
    void d.dismiss().catch(() => {});
  });
  const base = `http://127.0.0.1:${port}`;
  const res = await page.goto(`${base}/`, { timeout: 15_000 }).catch((err: unknown) => t.fail(`Chromium could not load ${base}/: ${(err as Error).message.split("\n")[0]} (browser: ${used})`));
  if (res === null || res.status() !== 200) t.fail(`Chromium gets ${res === null ? "no response" : `status ${res.status()}`} for the listing of a folder of hostile names (browser: ${used})`);
  await page.waitForTimeout(300);
  const where = await shot(page, "stage-17-hostile.png");
  if (dialogs.length > 0) t.fail(`a file name ran as a script in the listing: Chromium showed the dialog ${JSON.stringify(dialogs[0])} (screenshot: ${where})`);
  const extra = await fromNames(page);
  if (extra.length > 0) t.fail(`the listing's body holds elements that came from file names: ${JSON.stringify(extra)}; every name must show as text (screenshot: ${where})`);
  const shown = await links(page);
  const want = [`${folder}/`, ...HOSTILE_NAMES].sort();
  if (JSON.stringify(shown.map((l) => l.text).sort()) !== JSON.stringify(want)) t.fail(`Chromium shows the names ${JSON.stringify(shown.map((l) => l.text).sort())}, not ${JSON.stringify(want)} (screenshot: ${where})`);
  const heading = await page.$eval("h3", (h) => (h as unknown as Anchor).textContent ?? "").catch(() => "");
  if (heading.replace(/\u00a0/g, " ") !== "Index of /") t.fail(`the heading is ${JSON.stringify(heading)}, not "Index of /"`);
  for (const link of shown) {
    if (link.text.endsWith("/")) continue;
    const r = await fetch(link.url);
    const body = await r.text();
    if (r.status !== 200 || body !== `the file named ${link.text}\n`) t.fail(`the link of ${JSON.stringify(link.text)} (href ${JSON.stringify(link.href)}, which Chromium resolves to ${link.url}) gives ${r.status} ${JSON.stringify(body.slice(0, 80))}, not that file: percent-encode the name, and decode the path before looking it up`);
    if (mediaType(r.headers.get("content-type")) !== "text/plain") t.fail(`${link.url} has Content-Type ${JSON.stringify(r.headers.get("content-type"))}, not text/plain`);
  }
  // Into the folder with the hostile name, and to the file inside it.
  const status = await follow(t, page, `${folder}/`, used);
  const title = await page.title();
  if (status !== 200 || title !== `Directory: /${folder}/`) t.fail(`clicking ${JSON.stringify(`${folder}/`)} shows ${JSON.stringify(title)} with status ${status}, not the listing "Directory: /${folder}/" (screenshot: ${await shot(page, "stage-17-hostile.png")})`);
  const innerExtra = await fromNames(page);
  if (innerExtra.length > 0) t.fail(`the listing of the folder ${JSON.stringify(folder)} holds elements from its name (${JSON.stringify(innerExtra)}): the path in the title and the heading is escaped too`);
  const fileStatus = await follow(t, page, "inside & out.txt", used);
  const text = await bodyText(page);
  if (fileStatus !== 200 || text.trim() !== "inside") t.fail(`clicking "inside & out.txt" in the listing of ${JSON.stringify(folder)} shows status ${fileStatus} and ${JSON.stringify(text.slice(0, 80))}, not the file`);
}, { timeout: 120_000 });
