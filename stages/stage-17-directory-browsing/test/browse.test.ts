// Stage 17, milestones 4, 5 and 7 (its paths): listings served over HTTP.
// M4: a folder of the test's own, served by a config of the test's own.
// M5: the official tester's walk of the course's public/. M7: paths that try
// to leave the served folder, however they are written.
import fs from "node:fs";
import path from "node:path";
import { defineStage, type MilestoneContext } from "@xps/testkit";
import { TESTER_FILES, exchange, get, replyProblems } from "../../stage-14-http-request/test/exchange.ts";
import { REPO_PUBLIC, tempDir } from "../../stage-16-config/test/configs.ts";
import { expectListing, makeTree, mediaType, serveFolder, shownRows } from "./site.ts";

const stage = defineStage(path.join(import.meta.dirname, ".."));

stage.milestone("m4", async (t: MilestoneContext) => {
  const root = path.join(tempDir(t), "site");
  makeTree(root, {
    "notes.txt": "some notes\n",
    "data.json": '{"a":1}\n',
    "sub/": "",
    "sub/deep.txt": "deep\n",
    "withindex/": "",
    "withindex/index.html": "<!doctype html><title>index</title><p>the index</p>\n",
    "withindex/other.txt": "other\n",
    "empty/": "",
  });
  fs.copyFileSync(path.join(REPO_PUBLIC, "cat.jpg"), path.join(root, "photo.jpg"));
  const port = await serveFolder(t, root);
  const want = (list: [string, string][]) => list.map(([text, href]) => `${text} -> ${href}`).sort();
  const cases: [string, string[]][] = [
    ["/", want([["data.json", "/data.json"], ["empty/", "/empty"], ["notes.txt", "/notes.txt"], ["photo.jpg", "/photo.jpg"], ["sub/", "/sub"], ["withindex/", "/withindex"]])],
    ["/sub", want([["deep.txt", "/sub/deep.txt"]])],
    ["/sub/", want([["deep.txt", "/sub/deep.txt"]])],
    ["/empty", []],
  ];
  for (const [target, rows] of cases) {
    const { rows: got, reply } = await expectListing(t, port, target);
    if (JSON.stringify(shownRows(got)) !== JSON.stringify(rows)) {
      t.fail({ problem: `the listing of ${target} does not have one table row (tr td a) per entry, with its absolute href and its name as text, and a / after a folder's name (not in its href)`, expected: Buffer.from(rows.join("\n")), got: Buffer.from(shownRows(got).join("\n") || "(no rows)"), notes: [`the page begins: ${reply.body.subarray(0, 300).toString("utf8")}`] });
    }
    if (Number(reply.headers.get("content-length")) !== reply.body.length) t.fail(`the listing of ${target}: Content-Length ${reply.headers.get("content-length")} is not the page's ${reply.body.length} bytes`);
  }
  // A folder with an index file still serves it.
  const index = await exchange(port, get("/withindex/"));
  const indexProblems = replyProblems(index, { status: 200, type: "text/html", body: fs.readFileSync(path.join(root, "withindex/index.html")) });
  if (indexProblems.length > 0) t.fail({ problem: `GET /withindex/ names a folder with an index file, which is served instead of a listing: ${indexProblems[0]}`, got: index.raw.subarray(0, 400) });
  // HEAD: the header block alone, with the page's length.
  const page = (await exchange(port, get("/"))).body;
  const head = await exchange(port, get("/").replace(/^GET /, "HEAD "));
  const headProblems = replyProblems({ ...head, body: Buffer.alloc(0) }, { status: 200 }).filter((p) => !p.startsWith("Content-Length says"));
  if (head.body.length > 0) headProblems.push(`${head.body.length} bytes of body came after the header block; HEAD gets none`);
  if (Number(head.headers.get("content-length")) !== page.length) headProblems.push(`Content-Length is ${head.headers.get("content-length")}, not the ${page.length} bytes the GET's page has`);
  if (headProblems.length > 0) t.fail({ problem: `HEAD / : ${headProblems[0]}`, got: head.raw.subarray(0, 400), notes: headProblems.slice(1) });
});

stage.milestone("m5", async (t: MilestoneContext) => {
  const port = await serveFolder(t, REPO_PUBLIC);
  const base = `http://127.0.0.1:${port}`;
  const types = new Map(TESTER_FILES.map((f) => [f.name, f.type]));
  // The tester's own requests: // is the listing of /.
  const top = await fetch(`${base}//`).catch((err: unknown) => t.fail(`fetch ${base}// failed: ${(err as Error).message} (${String((err as Error).cause ?? "")})`));
  if (top.status !== 200 || mediaType(top.headers.get("content-type")) !== "text/html") t.fail(`fetch ${base}// gives ${top.status} ${JSON.stringify(top.headers.get("content-type"))}; the tester wants 200 and text/html`);
  const { rowsOf } = await import("./listing.ts");
  const rows = rowsOf(await top.text());
  for (const href of ["/cat.jpg", "/sample.pdf", "/sample.txt", "/xps_config.json", "/test"]) {
    if (!rows.some((r) => r.href === href)) t.fail(`the listing of // has no link (table tr td a) whose href is ${href}; its links are ${JSON.stringify(rows.map((r) => r.href))}`);
  }
  const pdf = await fetch(`${base}//sample.pdf`);
  await pdf.arrayBuffer();
  if (pdf.status !== 200 || pdf.headers.get("content-type") !== "application/pdf") t.fail(`fetch ${base}//sample.pdf gives ${pdf.status} ${JSON.stringify(pdf.headers.get("content-type"))}, not 200 application/pdf`);
  // The recursive walk: every folder lists, every file comes with its exact type and bytes.
  const seen = new Set<string>();
  const queue = ["/"];
  while (queue.length > 0) {
    const dir = queue.shift()!;
    const { rows: entries } = await expectListing(t, port, dir);
    for (const row of entries) {
      if (seen.has(row.href)) continue;
      seen.add(row.href);
      if (row.text.endsWith("/")) {
        queue.push(row.href);
        continue;
      }
      const res = await fetch(`${base}${row.href}`);
      const body = Buffer.from(await res.arrayBuffer());
      const local = path.join(REPO_PUBLIC, decodeURIComponent(row.href));
      const want = types.get(row.href);
      if (res.status !== 200) t.fail(`the walk: ${row.href} (listed in ${dir}) gives ${res.status}, not 200`);
      if (want !== undefined && res.headers.get("content-type") !== want) t.fail(`the walk: ${row.href} has Content-Type ${JSON.stringify(res.headers.get("content-type"))}, not exactly ${want}`);
      if (!body.equals(fs.readFileSync(local))) t.fail(`the walk: ${row.href} sends ${body.length} bytes that are not the file's ${fs.statSync(local).size}`);
    }
  }
  const missing = TESTER_FILES.map((f) => f.name).filter((n) => !seen.has(n));
  if (missing.length > 0) t.fail(`the walk from / never reached ${missing.join(", ")}: the listing of /test must link /test/cat.jpg, /test/sample.pdf and /test/sample.txt (it reached ${[...seen].sort().join(", ")})`);
});

stage.check("m7", "paths that leave the served folder, however they are written, get a complete 403 or 404", async (t: MilestoneContext) => {
  const base = tempDir(t);
  const root = path.join(base, "public");
  makeTree(root, { "ok.txt": "fine\n", "test/": "", "test/inner.txt": "inner\n" });
  makeTree(path.join(base, "public-secret"), { "secret.txt": "TOP SECRET\n", "index-less/": "", "index-less/more.txt": "MORE SECRET\n" });
  fs.symlinkSync(path.join(base, "public-secret"), path.join(root, "link-out"));
  fs.symlinkSync(path.join(base, "public-secret", "secret.txt"), path.join(root, "link-out.txt"));
  fs.symlinkSync("../../public-secret/index-less", path.join(root, "test", "up"));
  const port = await serveFolder(t, root);
  // The served folder itself lists, so a server that closes every folder's client fails here.
  await expectListing(t, port, "/");
  const targets = [
    "/..",
    "/../",
    "/../public-secret/",
    "/../public-secret/secret.txt",
    "/%2e%2e/",
    "/%2E%2E/public-secret/",
    "/%2e%2e/public-secret/secret.txt",
    "/..%2f",
    "/..%2fpublic-secret%2f",
    "/..%2Fpublic-secret%2Fsecret.txt",
    "/%2e%2e%2fpublic-secret%2findex-less",
    "//..//public-secret//",
    "/test/../../public-secret/index-less/",
    "/test/%2e%2e/%2e%2e/public-secret",
    "/link-out",
    "/link-out/",
    "/link-out/index-less",
    "/link-out/secret.txt",
    "/link-out.txt",
    "/test/up",
    "/test/up/",
    "/test/up/more.txt",
  ];
  for (const target of targets) {
    const sent = get(target);
    const r = await exchange(port, sent);
    const problems = [400, 403, 404].includes(r.status) ? replyProblems(r, { status: r.status }) : replyProblems(r, { status: 403 });
    const body = r.body.toString("utf8");
    if (body.includes("SECRET")) problems.unshift("the body is a file from outside the served folder");
    if (/<table\b/i.test(body)) problems.unshift("the body is a listing, of a folder outside the served folder");
    if (problems.length > 0) t.fail({ problem: `GET ${target} tries to leave the served folder: it must get a complete 403 or 404 (400 for a malformed path), and nothing from outside: ${problems[0]}`, sent: Buffer.from(sent), got: r.raw.subarray(0, 500), notes: problems.slice(1) });
  }
}, { timeout: 90_000 });
