// Stage 17's black-box helpers: a folder of the test's own served by a
// config of the test's own on a free port, and the requests and checks the
// milestones share.
import fs from "node:fs";
import path from "node:path";
import type { MilestoneContext } from "@xps/testkit";
import { exchange, get, replyProblems, type Reply } from "../../stage-14-http-request/test/exchange.ts";
import { ports, startOnConfig, tempDir, writeConfig } from "../../stage-16-config/test/configs.ts";
import { rowsOf, type Row } from "./listing.ts";

/** Serve the folder `root` on a free port with one file_serve route (index.html as its index); the port. */
export async function serveFolder(t: MilestoneContext, root: string): Promise<number> {
  const [port] = await ports(1);
  const config = {
    server_name: "eXpServer",
    servers: [{ listeners: [{ host: "127.0.0.1", port }], routes: [{ req_path: "/", type: "file_serve", dir_path: root, index: ["index.html"] }] }],
  };
  await startOnConfig(t, writeConfig(tempDir(t), config), [port!]);
  return port!;
}

/** Write the files (path -> content) below `root`, readable by others as the file module wants; folders end with "/". */
export function makeTree(root: string, entries: Record<string, string>): void {
  fs.mkdirSync(root, { recursive: true });
  fs.chmodSync(root, 0o755);
  for (const [name, content] of Object.entries(entries)) {
    const at = path.join(root, name);
    if (name.endsWith("/")) {
      fs.mkdirSync(at, { recursive: true });
      fs.chmodSync(at, 0o755);
    } else {
      fs.mkdirSync(path.dirname(at), { recursive: true });
      fs.writeFileSync(at, content);
      fs.chmodSync(at, 0o644);
    }
  }
}

/** The media type of a Content-Type, without its parameters. */
export const mediaType = (value: string | undefined | null): string => (value ?? "").split(";")[0]!.trim().toLowerCase();

/**
 * GET `target` (sent as it is) and fail unless the reply is a complete 200
 * listing: text/html, the standard headers, a Content-Length that counts the
 * body's bytes, a table. Its rows, read as a browser reads them.
 */
export async function expectListing(t: MilestoneContext, port: number, target: string): Promise<{ rows: Row[]; reply: Reply }> {
  const sent = get(target);
  const reply = await exchange(port, sent);
  const problems = replyProblems(reply, { status: 200, date: true });
  if (mediaType(reply.headers.get("content-type")) !== "text/html") problems.push(`Content-Type is ${JSON.stringify(reply.headers.get("content-type") ?? null)}, not text/html`);
  const page = reply.body.toString("utf8");
  if (problems.length === 0 && !/<table\b/i.test(page)) problems.push("the page has no <table>");
  if (problems.length > 0) t.fail({ problem: `GET ${target} names a folder without an index file, so its reply is the listing: ${problems[0]}`, sent: Buffer.from(sent), got: reply.raw.subarray(0, 600), notes: problems.slice(1) });
  return { rows: rowsOf(page), reply };
}

/** The rows as "text -> href" lines, sorted, for a message or a comparison. */
export function shownRows(rows: Row[]): string[] {
  return rows.map((r) => `${r.text} -> ${r.href}`).sort();
}
