// The listing module (stage 17) on its own: the page's structure, what it
// escapes, its links, the order of its entries, and what it refuses to list
// (a folder outside the served one, links out of it), on real temp folders.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, expect, test } from "vitest";
import { E_NOTFOUND, E_PERMISSION, OK } from "@xps/utils";
import { directoryBrowsing, directoryPage, directoryRead, directoryResolve, entryHref, htmlEscape, listingPath, sortEntries, type DirEntry } from "../src/directory.ts";

const temp = fs.mkdtempSync(path.join(os.tmpdir(), "xps-directory-"));
afterAll(() => fs.rmSync(temp, { recursive: true, force: true }));

/** A served folder with files, folders, a link inside and links out, and an outside folder. */
function tree(): { root: string; outside: string } {
  const base = fs.mkdtempSync(path.join(temp, "t-"));
  const root = path.join(base, "public");
  const outside = path.join(base, "public-secret");
  fs.mkdirSync(path.join(root, "test"), { recursive: true });
  fs.mkdirSync(path.join(root, "b dir"));
  fs.mkdirSync(outside);
  for (const f of ["sample.txt", "cat.jpg", "Zeta.txt", "bädé.txt", "test/inner.txt"]) fs.writeFileSync(path.join(root, f), f);
  fs.writeFileSync(path.join(outside, "secret.txt"), "secret");
  fs.symlinkSync(path.join(root, "sample.txt"), path.join(root, "link-in.txt"));
  fs.symlinkSync(path.join(root, "test"), path.join(root, "link-dir"));
  fs.symlinkSync(path.join(outside, "secret.txt"), path.join(root, "link-out.txt"));
  fs.symlinkSync(outside, path.join(root, "link-out-dir"));
  fs.symlinkSync(path.join(root, "nowhere"), path.join(root, "broken"));
  return { root, outside };
}

test("hrefs are absolute from the request's path: one trailing slash, double slashes and dot segments do not show", () => {
  expect(entryHref("/", "cat.jpg")).toBe("/cat.jpg");
  expect(entryHref("//", "cat.jpg")).toBe("/cat.jpg");
  expect(entryHref("", "cat.jpg")).toBe("/cat.jpg");
  expect(entryHref("/test", "cat.jpg")).toBe("/test/cat.jpg");
  expect(entryHref("/test/", "cat.jpg")).toBe("/test/cat.jpg");
  expect(entryHref("//test//", "cat.jpg")).toBe("/test/cat.jpg");
  expect(entryHref("/a/./b/../c/", "x")).toBe("/a/c/x");
  expect(entryHref("/../..", "x")).toBe("/x");
  expect(entryHref("/", "sub")).toBe("/sub");
  expect(listingPath("/")).toBe("");
  expect(listingPath("/test/")).toBe("/test");
});

test("hrefs are percent-encoded, segment by segment", () => {
  expect(entryHref("/", "a b#1?.txt")).toBe("/a%20b%231%3F.txt");
  expect(entryHref("/my dir/", "100%.txt")).toBe("/my%20dir/100%25.txt");
  expect(entryHref("/", "café.txt")).toBe("/caf%C3%A9.txt");
  expect(entryHref("/", '<img src=x onerror=alert(1)>.txt')).toBe("/%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E.txt");
  expect(entryHref("/", "a/b")).toBe("/a%2Fb");
  // What a link says, decoded, is the name again.
  for (const name of ["a b.txt", "R&D \"x\" 'y'.txt", "日本語.txt", "%2e%2e"]) expect(decodeURIComponent(entryHref("/d", name))).toBe(`/d/${name}`);
});

test("htmlEscape turns the five special characters into entities and leaves the rest", () => {
  expect(htmlEscape(`<a href="x">'&'</a>`)).toBe("&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  expect(htmlEscape("café 日本 plain")).toBe("café 日本 plain");
  expect(htmlEscape("&amp;")).toBe("&amp;amp;");
});

test("the page: UTF-8, its title, eXpServer, Index of, and one row per entry with its link", () => {
  const entries: DirEntry[] = [
    { name: "test", dir: true },
    { name: "cat.jpg", dir: false },
  ];
  const page = directoryPage("/", entries);
  expect(page.startsWith("<!DOCTYPE html>")).toBe(true);
  expect(page).toContain('<meta charset="utf-8">');
  expect(page).toContain('<meta name="viewport"');
  expect(page).toContain("<title>Directory: /</title>");
  expect(page).toContain("<h1>eXpServer</h1>");
  expect(page).toContain("<h3>Index of&nbsp;/</h3>");
  expect(page).toContain('<tr><td><a href="/test">test/</a></td></tr>');
  expect(page).toContain('<tr><td><a href="/cat.jpg">cat.jpg</a></td></tr>');
  expect(page.indexOf("/test")).toBeLessThan(page.indexOf("/cat.jpg"));
  expect(page.trimEnd().endsWith("</table>\n</body>\n</html>")).toBe(true);
  expect(directoryPage("/test", [])).toContain("<title>Directory: /test/</title>");
  expect(directoryPage("/test", [])).toContain("<table>\n</table>");
});

test("the page shows hostile names as text, and links them by their encoded names", () => {
  const hostile = "<img src=x onerror=alert(1)>.txt";
  const page = directoryPage("/<b>&/", [
    { name: hostile, dir: false },
    { name: `"quoted" & 'single'`, dir: true },
  ]);
  expect(page).not.toContain("<img");
  expect(page).not.toContain("<b>");
  expect(page).toContain("&lt;img src=x onerror=alert(1)&gt;.txt</a>");
  expect(page).toContain(`href="/%3Cb%3E%26/%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E.txt"`);
  expect(page).toContain("&quot;quoted&quot; &amp; &#39;single&#39;/</a>");
  expect(page).toContain("<title>Directory: /&lt;b&gt;&amp;/</title>");
});

test("folders come first, then files, each by name, code unit by code unit", () => {
  const sorted = sortEntries([
    { name: "b.txt", dir: false },
    { name: "Z dir", dir: true },
    { name: "a.txt", dir: false },
    { name: "B.txt", dir: false },
    { name: "a dir", dir: true },
    { name: "é.txt", dir: false },
  ]);
  expect(sorted.map((e) => e.name)).toEqual(["Z dir", "a dir", "B.txt", "a.txt", "b.txt", "é.txt"]);
});

test("directoryRead lists files and folders, follows links that stay inside, and leaves out the rest", async () => {
  const { root } = tree();
  const entries = await directoryRead(fs.realpathSync(root), fs.realpathSync(root));
  expect(entries).toEqual([
    { name: "b dir", dir: true },
    { name: "link-dir", dir: true },
    { name: "test", dir: true },
    { name: "Zeta.txt", dir: false },
    { name: "bädé.txt", dir: false },
    { name: "cat.jpg", dir: false },
    { name: "link-in.txt", dir: false },
    { name: "sample.txt", dir: false },
  ]);
});

test("a name whose bytes are not UTF-8 cannot be asked for, so it is left out", async () => {
  const dir = fs.mkdtempSync(path.join(temp, "bytes-"));
  fs.writeFileSync(path.join(dir, "ok.txt"), "");
  fs.writeFileSync(Buffer.concat([Buffer.from(dir + "/"), Buffer.from([0x62, 0xff, 0x2e, 0x74])]), "");
  const entries = await directoryRead(fs.realpathSync(dir), fs.realpathSync(dir));
  expect(entries).toEqual([{ name: "ok.txt", dir: false }]);
});

test("directoryResolve: the served folder and folders inside it; not outside, not through a link, not a file", async () => {
  const { root } = tree();
  const realRoot = fs.realpathSync(root);
  expect(await directoryResolve(root, root)).toEqual({ dir: realRoot, root: realRoot });
  expect(await directoryResolve(`${root}/`, root)).toEqual({ dir: realRoot, root: realRoot });
  expect(await directoryResolve(path.join(root, "test"), root)).toEqual({ dir: path.join(realRoot, "test"), root: realRoot });
  expect(await directoryResolve(path.join(root, "link-dir"), root)).toEqual({ dir: path.join(realRoot, "test"), root: realRoot });
  expect(await directoryResolve(path.join(root, ".."), root)).toBe(E_PERMISSION);
  expect(await directoryResolve(`${root}/../public-secret`, root)).toBe(E_PERMISSION);
  expect(await directoryResolve(path.join(root, "link-out-dir"), root)).toBe(E_PERMISSION);
  expect(await directoryResolve(path.join(root, "nope"), root)).toBe(E_NOTFOUND);
  expect(await directoryResolve(path.join(root, "sample.txt"), root)).toBe(E_NOTFOUND);
});

test("directoryBrowsing: the page of a folder, as UTF-8 bytes; a refusal with its code", async () => {
  const { root, outside } = tree();
  const ok = await directoryBrowsing(path.join(root, "test"), "/test", root);
  expect(ok.error).toBe(OK);
  const html = ok.page!.toString("utf8");
  expect(html).toContain('<a href="/test/inner.txt">inner.txt</a>');
  expect(html).toContain("<title>Directory: /test/</title>");
  const top = (await directoryBrowsing(root, "//", root)).page!.toString("utf8");
  for (const href of ["/b%20dir", "/link-dir", "/test", "/cat.jpg", "/link-in.txt", "/sample.txt", "/Zeta.txt"]) expect(top).toContain(`href="${href}"`);
  expect(top).not.toContain("link-out");
  expect(top).not.toContain("broken");
  expect(await directoryBrowsing(outside, "/", root)).toEqual({ page: null, error: E_PERMISSION });
  expect(await directoryBrowsing(path.join(root, "gone"), "/gone", root)).toEqual({ page: null, error: E_NOTFOUND });
});

test("reading a folder blocks nothing: no synchronous file system call, and the caller's code runs first", async () => {
  const { root } = tree();
  const sync = ["readdirSync", "opendirSync", "statSync", "lstatSync", "realpathSync", "openSync", "fstatSync"] as const;
  const saved = sync.map((k) => [k, fs[k]] as const);
  const called: string[] = [];
  for (const k of sync) (fs as unknown as Record<string, unknown>)[k] = (...args: unknown[]) => (called.push(k), (saved.find(([n]) => n === k)![1] as (...a: unknown[]) => unknown)(...args));
  let ranBefore = false;
  try {
    const pending = directoryBrowsing(root, "/", root);
    ranBefore = true;
    expect((await pending).error).toBe(OK);
  } finally {
    for (const [k, f] of saved) (fs as unknown as Record<string, unknown>)[k] = f;
  }
  expect(ranBefore).toBe(true);
  expect(called).toEqual([]);
});
