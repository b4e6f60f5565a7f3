// Stage 17, milestones 1 to 3: the listing module on its own, in-process,
// with your directory.ts ("@xps/disk/directory" is your src/directory.ts in
// the learner variant): which entries a folder lists and in what order, the
// folders it refuses, the page and what it escapes, and the links.
import fs from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import os from "node:os";
import path from "node:path";
import { E_NOTFOUND, E_PERMISSION, resultName } from "@xps/utils";
import { directoryBrowsing, directoryPage, directoryRead, directoryResolve, entryHref, htmlEscape, type DirEntry } from "@xps/disk/directory";
import { defineStage, type MilestoneContext } from "@xps/testkit";
import { ensure } from "../../stage-14-http-request/test/observe.ts";
import { HOSTILE_NAMES, rowsOf } from "./listing.ts";

const stage = defineStage(path.join(import.meta.dirname, ".."));

/** A served folder with files, folders, links that stay inside and links that leave, a FIFO, and a folder beside it. */
function tree(t: MilestoneContext): { root: string; outside: string } {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), "xps-stage-17-"));
  t.cleanup(() => fs.rmSync(base, { recursive: true, force: true }));
  const root = path.join(base, "public");
  const outside = path.join(base, "public-secret");
  for (const d of ["public/test", "public/b dir", "public/.hidden-dir", "public-secret/inner"]) fs.mkdirSync(path.join(base, d), { recursive: true });
  for (const f of ["public/sample.txt", "public/cat.jpg", "public/Zeta.txt", "public/bädé.txt", "public/.env", "public/test/inner.txt", "public-secret/secret.txt"]) fs.writeFileSync(path.join(base, f), f);
  fs.symlinkSync(path.join(root, "sample.txt"), path.join(root, "link-in.txt"));
  fs.symlinkSync("test", path.join(root, "link-dir"));
  fs.symlinkSync(path.join(outside, "secret.txt"), path.join(root, "link-out.txt"));
  fs.symlinkSync(outside, path.join(root, "link-out-dir"));
  fs.symlinkSync("../../public-secret/inner", path.join(root, "test", "up-and-out"));
  fs.symlinkSync(path.join(root, "nowhere"), path.join(root, "broken"));
  return { root, outside };
}

const SYNC_CALLS = ["readdirSync", "opendirSync", "statSync", "lstatSync", "realpathSync", "existsSync", "accessSync", "openSync", "fstatSync", "readSync"] as const;

/**
 * Run `fn` with every synchronous file system call of node:fs counted (the
 * module object and, through syncBuiltinESMExports, its named exports).
 */
async function countingSyncCalls<T>(fn: () => Promise<T>): Promise<{ value: T; calls: string[] }> {
  const fsAny = fs as unknown as Record<string, (...a: unknown[]) => unknown>;
  const saved = SYNC_CALLS.map((k) => [k, fsAny[k]!] as const);
  const calls: string[] = [];
  for (const [k, real] of saved) fsAny[k] = (...args: unknown[]) => (calls.push(k), real(...args));
  // fs.realpathSync.native (C's realpath()) counts too.
  const native = (saved.find(([k]) => k === "realpathSync")![1] as unknown as { native: (...a: unknown[]) => unknown }).native;
  (fsAny.realpathSync as unknown as { native: unknown }).native = (...args: unknown[]) => (calls.push("realpathSync.native"), native(...args));
  syncBuiltinESMExports();
  try {
    return { value: await fn(), calls };
  } finally {
    for (const [k, real] of saved) fsAny[k] = real;
    syncBuiltinESMExports();
  }
}

const names = (list: DirEntry[]): string => list.map((e) => `${e.name}${e.dir ? "/" : ""}`).join(", ");

stage.milestone("m1", async (t: MilestoneContext) => {
  const { root, outside } = tree(t);
  const realRoot = fs.realpathSync(root);
  // What a folder lists, and in what order.
  {
    const { value: got, calls } = await countingSyncCalls(() => directoryRead(realRoot, realRoot));
    const want = ".hidden-dir/, b dir/, link-dir/, test/, .env, Zeta.txt, bädé.txt, cat.jpg, link-in.txt, sample.txt";
    if (names(got) !== want) {
      t.fail({ problem: `directoryRead of the served folder gives [${names(got)}]; it lists [${want}]: folders first, then files, each by name (< on strings), a link as what it leads to, and nothing the server would not serve (links out of the folder, broken links)`, notes: ["the folder: sample.txt cat.jpg Zeta.txt bädé.txt .env test/ b dir/ .hidden-dir/, link-in.txt -> sample.txt, link-dir -> test, link-out.txt and link-out-dir -> the folder beside it, broken -> nowhere"] });
    }
    if (calls.length > 0) t.fail(`directoryRead made synchronous file system calls (${[...new Set(calls)].join(", ")}): each one stops the whole server, every client, until the disk answers. Use fs.promises (readdir with withFileTypes, realpath, stat), whose calls go through libuv's thread pool.`);
    const inner = await directoryRead(path.join(realRoot, "test"), realRoot);
    if (names(inner) !== "inner.txt") t.fail(`directoryRead of test/ gives [${names(inner)}]; it lists [inner.txt]: test/up-and-out is a link that leads out of the served folder`);
  }
  // The folders it refuses.
  {
    const { value: own, calls } = await countingSyncCalls(() => directoryResolve(root, root));
    if (typeof own === "number" || own.dir !== realRoot || own.root !== realRoot) t.fail(`directoryResolve(root, root) gives ${typeof own === "number" ? resultName(own) : JSON.stringify(own)}; the served folder itself may be listed: { dir, root }, both real paths`);
    if (calls.length > 0) t.fail(`directoryResolve made synchronous file system calls (${[...new Set(calls)].join(", ")}); use fs.promises`);
    const inside = await directoryResolve(path.join(root, "link-dir"), root);
    if (typeof inside === "number" || inside.dir !== path.join(realRoot, "test")) t.fail(`directoryResolve(root/link-dir) gives ${typeof inside === "number" ? resultName(inside) : JSON.stringify(inside.dir)}; link-dir is a link to test/, inside the served folder: its real path`);
    const refused: [string, string, number][] = [
      ["root/..", path.join(root, ".."), E_PERMISSION],
      ["root/../public-secret (the folder beside it, whose name starts like the served one's)", `${root}/../public-secret`, E_PERMISSION],
      ["root/link-out-dir (a link to the folder beside it)", path.join(root, "link-out-dir"), E_PERMISSION],
      ["root/test/up-and-out (a relative link out)", path.join(root, "test", "up-and-out"), E_PERMISSION],
      ["the folder beside it", outside, E_PERMISSION],
      ["root/missing", path.join(root, "missing"), E_NOTFOUND],
      ["root/sample.txt (a file)", path.join(root, "sample.txt"), E_NOTFOUND],
    ];
    for (const [what, dir, code] of refused) {
      const got = await directoryResolve(dir, root);
      if (got !== code) t.fail(`directoryResolve(${what}) gives ${typeof got === "number" ? resultName(got) : `the folder ${JSON.stringify(got.dir)}`}; it must be ${resultName(code)}`);
    }
    const page = await directoryBrowsing(path.join(root, "link-out-dir"), "/link-out-dir", root);
    if (page.page !== null || page.error !== E_PERMISSION) t.fail(`directoryBrowsing of a link out of the served folder gives ${page.page === null ? resultName(page.error) : "a page"}; it must be refused (E_PERMISSION)`);
  }
  ensure(t, "the entries of a folder, and the folders refused", true, "");
});

stage.milestone("m2", async (t: MilestoneContext) => {
  // htmlEscape
  const cases: [string, string][] = [
    ["plain name.txt", "plain name.txt"],
    ["<img src=x onerror=alert(1)>.txt", "&lt;img src=x onerror=alert(1)&gt;.txt"],
    [`R&D "x" 'y'`, "R&amp;D &quot;x&quot; &#39;y&#39;"],
    ["&amp;", "&amp;amp;"],
    ["café 日本", "café 日本"],
  ];
  for (const [text, want] of cases) {
    const got = htmlEscape(text);
    if (got !== want) t.fail(`htmlEscape(${JSON.stringify(text)}) gives ${JSON.stringify(got)}, not ${JSON.stringify(want)}: & < > " ' become &amp; &lt; &gt; &quot; &#39;, and nothing else changes`);
  }
  // The page.
  const entries: DirEntry[] = [
    { name: "test", dir: true },
    { name: `"q" & 'a'`, dir: true },
    { name: "cat.jpg", dir: false },
    ...HOSTILE_NAMES.map((name) => ({ name, dir: false })),
  ];
  const page = directoryPage("/", entries);
  const need: [string, string][] = [
    ["<!DOCTYPE html>", "the page starts with <!DOCTYPE html>"],
    ['<meta charset="utf-8">', 'it says it is UTF-8 (<meta charset="utf-8">), or a browser guesses how to read the names'],
    ["<title>Directory: /</title>", "its title is Directory: and the path"],
    ["<h1>eXpServer</h1>", "its heading is <h1>eXpServer</h1>"],
    ["<h3>Index of&nbsp;/</h3>", "its second heading is <h3>Index of&nbsp;/</h3>"],
    ["<table>", "the entries are in a <table>"],
  ];
  for (const [text, why] of need) if (!page.includes(text)) t.fail({ problem: `directoryPage("/", ...): ${why}; it holds no ${JSON.stringify(text)}`, got: Buffer.from(page.slice(0, 600)) });
  if (!directoryPage("/test", []).includes("<title>Directory: /test/</title>")) t.fail(`directoryPage("/test", []) has no <title>Directory: /test/</title>: the path is shown with one slash at its end`);
  const rows = rowsOf(page);
  const want = entries.map((e) => ({ href: entryHref("/", e.name), text: `${e.name}${e.dir ? "/" : ""}` }));
  if (JSON.stringify(rows) !== JSON.stringify(want)) {
    t.fail({ problem: "the table's rows (<tr><td><a href=...>text</a>, read as a browser reads them) are not one per entry, in the order given, each linking entryHref(pathname, name) with the name as its text, and a / after a folder's name", expected: Buffer.from(JSON.stringify(want, null, 1)), got: Buffer.from(JSON.stringify(rows, null, 1)) });
  }
  if (/<img|<script|<b>/i.test(page.replace(/<\/?(html|head|body|meta|title|style|h1|h3|hr|table|tr|td|a)\b/g, ""))) t.fail({ problem: "the page holds markup from a file name: every name must be escaped (htmlEscape) in the link text and in the href", got: Buffer.from(page) });
  const hostilePath = directoryPage("/<b>&/", []);
  if (hostilePath.includes("<b>") || !hostilePath.includes("Directory: /&lt;b&gt;&amp;/")) t.fail({ problem: "the path shown in the title and the heading must be escaped too: a folder can be named <b>&", got: Buffer.from(hostilePath.slice(0, 600)) });
  ensure(t, "the page and what it escapes", true, "");
});

stage.milestone("m3", async (t: MilestoneContext) => {
  const cases: [string, string, string][] = [
    ["/", "cat.jpg", "/cat.jpg"],
    ["//", "cat.jpg", "/cat.jpg"],
    ["/test", "cat.jpg", "/test/cat.jpg"],
    ["/test/", "cat.jpg", "/test/cat.jpg"],
    ["/test//", "cat.jpg", "/test/cat.jpg"],
    ["//a//b/", "c", "/a/b/c"],
    ["/", "sub", "/sub"],
    ["/a/./b/../c/", "x", "/a/c/x"],
    ["/", "a b.txt", "/a%20b.txt"],
    ["/", "100%.txt", "/100%25.txt"],
    ["/", "a#b?c.txt", "/a%23b%3Fc.txt"],
    ["/", "café.txt", "/caf%C3%A9.txt"],
    ["/my dir/", "日本.txt", "/my%20dir/%E6%97%A5%E6%9C%AC.txt"],
    ["/", "<img src=x onerror=alert(1)>.txt", "/%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E.txt"],
    ["/", `"q" & 'a'`, "/%22q%22%20%26%20'a'"],
    ["/", "%2e%2e", "/%252e%252e"],
  ];
  for (const [pathname, name, want] of cases) {
    const got = entryHref(pathname, name);
    if (got !== want) t.fail(`entryHref(${JSON.stringify(pathname)}, ${JSON.stringify(name)}) gives ${JSON.stringify(got)}, not ${JSON.stringify(want)}: absolute, each segment percent-encoded (encodeURIComponent), no empty segment, no trailing slash`);
  }
  // The page's links: what the server reads back is the file's name.
  const { root } = tree(t);
  const sub = path.join(root, "test");
  for (const name of HOSTILE_NAMES) fs.writeFileSync(path.join(sub, name), name);
  const result = await directoryBrowsing(sub, "/test/", root);
  if (result.page === null) t.fail(`directoryBrowsing of test/ gives ${resultName(result.error)}, not a page`);
  const rows = rowsOf(result.page.toString("utf8"));
  for (const name of HOSTILE_NAMES) {
    const row = rows.find((r) => r.text === name);
    if (row === undefined) t.fail(`the listing of test/ shows no entry whose text is ${JSON.stringify(name)} (it shows ${JSON.stringify(rows.map((r) => r.text))})`);
    let decoded: string;
    try {
      decoded = decodeURIComponent(new URL(row.href, "http://127.0.0.1/").pathname);
    } catch {
      t.fail(`the href ${JSON.stringify(row.href)} of ${JSON.stringify(name)} does not decode: a % that is not an escape`);
    }
    if (decoded !== `/test/${name}`) t.fail(`the href ${JSON.stringify(row.href)} of ${JSON.stringify(name)} reaches ${JSON.stringify(decoded)} once a browser has read it, not ${JSON.stringify(`/test/${name}`)}: percent-encode each segment`);
  }
  ensure(t, "the links", true, "");
});
