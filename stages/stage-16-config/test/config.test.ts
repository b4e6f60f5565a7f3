// Stage 16's milestones: the server started on a config (the stage's
// reference config, the official tester's, and configs of the tests' own,
// all moved to free ports), and talked to over raw TCP and with fetch.
import fs from "node:fs";
import path from "node:path";
import { defineStage, startPythonUpstream, type MilestoneContext } from "@xps/testkit";
import { exchange, get, replyProblems, type Reply, type Want } from "../../stage-14-http-request/test/exchange.ts";
import { REPO_PUBLIC, STAGE16_DIR, countingServer, listenerCount, movedConfig, ports, runToExit, startOnConfig, tempDir, writeConfig } from "./configs.ts";

const stage = defineStage(path.join(import.meta.dirname, ".."));
const REFERENCE = path.join(STAGE16_DIR, "xps_config.json");
const TESTER = path.join(REPO_PUBLIC, "xps_config.json");

/** Fail with the transcript unless the raw reply is complete and as wanted (and has the Location given). */
function expectRaw(t: MilestoneContext, what: string, sent: string, r: Reply, want: Want & { location?: string }): void {
  const problems = replyProblems(r, want);
  if (want.location !== undefined && r.head !== null) {
    const got = r.headers.get("location");
    if (got !== want.location) problems.push(`Location is ${JSON.stringify(got ?? null)}, not ${JSON.stringify(want.location)}`);
  }
  if (problems.length === 0) return;
  t.fail({ problem: `${what}: ${problems[0]}`, sent: Buffer.from(sent, "latin1"), got: r.raw.subarray(0, 400), notes: problems.slice(1) });
}

async function rawGet(t: MilestoneContext, port: number, pathname: string, want: Want & { location?: string }, extra: string[] = []): Promise<Reply> {
  const sent = get(pathname, extra);
  const r = await exchange(port, sent);
  expectRaw(t, `GET ${pathname} on port ${port}`, sent, r, want);
  return r;
}

/** The reference config on free ports; its proxy sent to `upstream`. */
async function startReference(t: MilestoneContext, upstream = "127.0.0.1:9"): Promise<number[]> {
  const config = movedConfig(REFERENCE, await ports(3), upstream);
  const list = (config.servers as { listeners: { port: number }[] }[]).map((s) => s.listeners[0]!.port);
  await startOnConfig(t, writeConfig(tempDir(t), config), list);
  return list;
}

stage.milestone("m1", async (t: MilestoneContext) => {
  const [files] = await startReference(t);
  for (const { name, type } of [
    { name: "/sample.txt", type: "text/plain" },
    { name: "/cat.jpg", type: "image/jpeg" },
    { name: "/sample.pdf", type: "application/pdf" },
  ]) {
    const body = fs.readFileSync(path.join(REPO_PUBLIC, name));
    await rawGet(t, files!, name, { status: 200, type, body });
    const res = await fetch(`http://127.0.0.1:${files}${name}`);
    const got = Buffer.from(await res.arrayBuffer());
    t.same(`fetch ${name}: the status`, res.status, 200);
    t.same(`fetch ${name}: Content-Type`, res.headers.get("content-type"), type);
    t.same(`fetch ${name}: Content-Length`, res.headers.get("content-length"), String(body.length));
    t.ensure(`fetch ${name}: the body is the file`, got.equals(body));
  }
  await rawGet(t, files!, "/no-such-file.txt", { status: 404 });
});

stage.milestone("m2", async (t: MilestoneContext) => {
  const [files, , everything] = await startReference(t);
  for (const p of ["/redirect", "/redirect/deeper?x=1"]) await rawGet(t, files!, p, { status: 302, location: "http://localhost:8002/" });
  for (const p of ["/", "/sample.txt", "/a/b/c?d=e"]) await rawGet(t, everything!, p, { status: 302, location: "https://expserver.github.io" });
  const res = await fetch(`http://127.0.0.1:${files}/redirect`, { redirect: "manual" });
  t.same("fetch /redirect (not followed): the status", res.status, 302);
  t.same("fetch /redirect: Location", res.headers.get("location"), "http://localhost:8002/");
});

/** Status, every header but Date, and body of a fetch. */
async function fetched(url: string): Promise<{ status: number; headers: string; body: Buffer }> {
  let res: Response;
  try {
    res = await fetch(url, { redirect: "manual", signal: AbortSignal.timeout(5000) });
  } catch (err) {
    const why = (err as Error).name === "TimeoutError" ? "no complete answer within 5 s" : `the request failed (${(err as Error).message})`;
    throw new Error(`GET ${url}: ${why}`);
  }
  const headers = [...res.headers.entries()].filter(([k]) => k !== "date").map(([k, v]) => `${k}: ${v}`).join("\n");
  return { status: res.status, headers, body: Buffer.from(await res.arrayBuffer()) };
}

stage.milestone("m3", async (t: MilestoneContext) => {
  const python = await startPythonUpstream(REPO_PUBLIC);
  t.cleanup(() => python.stop());
  // A decoy: what a request names as its host. The proxy must never dial it.
  const decoy = await countingServer(t);
  const decoyPort = decoy.port;

  const [, proxy] = await startReference(t, `127.0.0.1:${python.port}`);
  for (const p of ["/cat.jpg", "/sample.txt", "/", "/test/", "/no-such-file"]) {
    const direct = await fetched(`http://127.0.0.1:${python.port}${p}`);
    const through = await fetched(`http://127.0.0.1:${proxy}${p}`);
    t.same(`GET ${p} through the proxy: the status is python's`, through.status, direct.status);
    t.same(`GET ${p} through the proxy: the headers but Date are python's`, through.headers, direct.headers);
    t.ensure(`GET ${p} through the proxy: the body is python's (${direct.body.length} bytes)`, through.body.equals(direct.body));
  }
  const sample = fs.readFileSync(path.join(REPO_PUBLIC, "sample.txt"));
  for (const sent of [
    get("/sample.txt").replace("Host: 127.0.0.1", `Host: 127.0.0.1:${decoyPort}`),
    `GET http://127.0.0.1:${decoyPort}/sample.txt HTTP/1.1\r\nHost: 127.0.0.1:${decoyPort}\r\n\r\n`,
  ]) {
    const r = await exchange(proxy!, sent);
    const what = `${JSON.stringify(sent.split("\r\n")[0])} with Host 127.0.0.1:${decoyPort}`;
    if (r.status !== 200 || !r.body.equals(sample)) {
      t.fail({ problem: `${what}: python's sample.txt should come back (the route's upstream answers, whatever host the request names)`, sent: Buffer.from(sent, "latin1"), got: r.raw.subarray(0, 300) });
    }
    t.same(`${what}: connections made to the host the request names`, decoy.count(), 0);
  }

  // An upstream that is down: a complete 502.
  const [port, down] = await ports(2);
  const config = { servers: [{ listeners: [{ host: "127.0.0.1", port }], routes: [{ req_path: "/", type: "reverse_proxy", upstreams: [`127.0.0.1:${down}`] }] }] };
  await startOnConfig(t, writeConfig(tempDir(t), config), [port!]);
  await rawGet(t, port!, "/sample.txt", { status: 502 });
});

stage.milestone("m4", async (t: MilestoneContext) => {
  const dir = tempDir(t);
  fs.mkdirSync(path.join(dir, "site"));
  fs.writeFileSync(path.join(dir, "site", "ap"), "the file ap\n");
  const [one, shared] = await ports(2);
  const config = {
    servers: [
      {
        listeners: [{ host: "127.0.0.1", port: one }],
        routes: [
          { req_path: "/", type: "file_serve", dir_path: path.join(dir, "site") },
          { req_path: "/api", type: "redirect", http_status_code: 307, redirect_url: "http://localhost:8002/api-home" },
          { req_path: "/api/v2", type: "redirect", http_status_code: 301, redirect_url: "http://localhost:8002/v2" },
        ],
      },
      { listeners: [{ host: "127.0.0.1", port: shared }], hostnames: ["b.test"], routes: [{ req_path: "/", type: "redirect", http_status_code: 302, redirect_url: "http://b.example/" }] },
      { listeners: [{ host: "127.0.0.1", port: shared }], hostnames: ["c.test"], routes: [{ req_path: "/", type: "redirect", http_status_code: 308, redirect_url: "http://c.example/" }] },
    ],
  };
  await startOnConfig(t, writeConfig(dir, config), [one!, shared!]);
  await rawGet(t, one!, "/api/data", { status: 307, location: "http://localhost:8002/api-home" });
  await rawGet(t, one!, "/api", { status: 307, location: "http://localhost:8002/api-home" });
  await rawGet(t, one!, "/api/v2/items", { status: 301, location: "http://localhost:8002/v2" });
  await rawGet(t, one!, "/ap", { status: 200, body: Buffer.from("the file ap\n") });
  await rawGet(t, one!, "/apx", { status: 404 });
  for (const [h, want] of [
    ["c.test", { status: 308, location: "http://c.example/" }],
    [`C.Test:${shared}`, { status: 308, location: "http://c.example/" }],
    ["b.test", { status: 302, location: "http://b.example/" }],
    ["other.test", { status: 302, location: "http://b.example/" }],
  ] as const) {
    const sent = get("/x").replace("Host: 127.0.0.1", `Host: ${h}`);
    const r = await exchange(shared!, sent);
    expectRaw(t, `GET /x with Host ${h} on the port two servers share`, sent, r, want);
  }
});

stage.milestone("m5", async (t: MilestoneContext) => {
  const dir = tempDir(t);
  const site = path.join(dir, "site");
  for (const d of ["", "docs", "both", "empty"]) fs.mkdirSync(path.join(site, d), { recursive: true });
  fs.writeFileSync(path.join(site, "index.html"), "<p>the root's index</p>\n");
  fs.writeFileSync(path.join(site, "docs", "index.html"), "<p>docs</p>\n");
  fs.writeFileSync(path.join(site, "both", "home.html"), "<p>home comes first</p>\n");
  fs.writeFileSync(path.join(site, "both", "index.html"), "<p>index comes second</p>\n");
  fs.writeFileSync(path.join(site, "empty", "notes.txt"), "no index here\n");
  fs.writeFileSync(path.join(site, "my file.txt"), "a space in the name\n");
  const [port] = await ports(1);
  // dir_path is relative: to the config file's folder, not to where the server runs.
  const config = { servers: [{ listeners: [{ host: "127.0.0.1", port }], routes: [{ req_path: "/", type: "file_serve", dir_path: "site", index: ["home.html", "index.html"] }] }] };
  await startOnConfig(t, writeConfig(dir, config), [port!]);
  const html = "text/html";
  await rawGet(t, port!, "/", { status: 200, type: html, body: fs.readFileSync(path.join(site, "index.html")) });
  await rawGet(t, port!, "/docs/", { status: 200, type: html, body: fs.readFileSync(path.join(site, "docs", "index.html")) });
  await rawGet(t, port!, "/docs", { status: 200, type: html, body: fs.readFileSync(path.join(site, "docs", "index.html")) });
  await rawGet(t, port!, "/both/", { status: 200, type: html, body: fs.readFileSync(path.join(site, "both", "home.html")) });
  await rawGet(t, port!, "/empty/", { status: 404 });
  await rawGet(t, port!, "/my%20file.txt", { status: 200, type: "text/plain", body: fs.readFileSync(path.join(site, "my file.txt")) });
});

stage.milestone("m6", async (t: MilestoneContext) => {
  const raw = JSON.parse(fs.readFileSync(TESTER, "utf8")) as Record<string, unknown>;
  const list = await ports(listenerCount(raw));
  const config = movedConfig(TESTER, list);
  const server = await startOnConfig(t, writeConfig(tempDir(t), config), list);
  const warnings = server.log().filter((l) => l.startsWith("[WARNING]"));
  for (const key of ["workers", "servers[0].routes[0].gzip_enable", "servers[0].routes[0].gzip_level"]) {
    t.ensure(`a WARNING names the unknown key ${key}`, warnings.some((l) => l.includes(key)), `no WARNING line names the unknown key ${key}; the WARNING lines:\n    ${warnings.join("\n    ") || "(none)"}`);
  }
  await rawGet(t, list[0]!, "/sample.txt", { status: 200, type: "text/plain", body: fs.readFileSync(path.join(REPO_PUBLIC, "sample.txt")) });
  await rawGet(t, list[0]!, "/redirect", { status: 302, location: "http://localhost:8002/" });
  await rawGet(t, list[3]!, "/", { status: 404 });
});

/** The wrong configs, each with the words its error line must hold. */
function wrongConfigs(dir: string, port: number): { what: string; config: unknown; want: string[][] }[] {
  const server = (routes: unknown[], listener: unknown = { host: "127.0.0.1", port }) => ({ servers: [{ listeners: [listener], routes }] });
  const files = { req_path: "/", type: "file_serve", dir_path: dir };
  fs.writeFileSync(path.join(dir, "a-file.txt"), "not a folder\n");
  return [
    { what: "a port out of range", config: server([files], { host: "127.0.0.1", port: 70000 }), want: [["servers[0].listeners[0].port", "65535", "70000"]] },
    { what: "an unknown route type", config: server([{ req_path: "/", type: "proxy", upstreams: ["127.0.0.1:3000"] }]), want: [["servers[0].routes[0].type", "file_serve", '"proxy"']] },
    { what: "a redirect without redirect_url", config: server([{ req_path: "/", type: "redirect", http_status_code: 302 }]), want: [["servers[0].routes[0].redirect_url", "nothing"]] },
    { what: "a dir_path that does not exist", config: server([{ ...files, dir_path: path.join(dir, "no-such-folder") }]), want: [["servers[0].routes[0].dir_path", "no-such-folder", "does not exist"]] },
    { what: "a dir_path that is a file", config: server([{ ...files, dir_path: path.join(dir, "a-file.txt") }]), want: [["servers[0].routes[0].dir_path", "a-file.txt", "not a folder"]] },
    { what: "an upstream port out of range", config: server([{ req_path: "/", type: "reverse_proxy", upstreams: ["127.0.0.1:99999"] }]), want: [["servers[0].routes[0].upstreams[0]", "99999"]] },
    { what: "text that is not JSON (a trailing comma)", config: `{ "servers": [], }`, want: [["JSON"]] },
    {
      what: "two problems at once",
      config: { servers: [{ listeners: [{ port: 0 }], routes: [{ req_path: "/", type: "redirect", http_status_code: 302 }] }] },
      want: [["servers[0].listeners[0].port", "0"], ["servers[0].routes[0].redirect_url"]],
    },
  ];
}

stage.milestone("m7", async (t: MilestoneContext) => {
  const dir = tempDir(t);
  const [port] = await ports(1);
  const cases = wrongConfigs(dir, port!);
  const runs = await Promise.all(
    cases.map(async (c, i) => {
      const file = writeConfig(dir, c.config, `wrong-${i}.json`);
      return { c, file, ...(await runToExit(t, [file])) };
    }),
  );
  for (const { c, file, code, lines } of runs) {
    const shown = `its output:\n    ${lines.slice(-10).join("\n    ") || "(nothing)"}`;
    if (code === null || code === 0) t.fail(`${c.what}: the server should exit with a non-zero code before listening; ${code === null ? "it is still running" : "it exited with 0"}; ${shown}`);
    if (lines.some((l) => /Server listening/.test(l))) t.fail(`${c.what}: the server listened before it gave up; ${shown}`);
    const errors = lines.filter((l) => l.startsWith("error:") || l.startsWith("[ERROR]"));
    for (const words of c.want) {
      const line = errors.find((l) => l.includes(file) && words.every((w) => l.includes(w)));
      t.ensure(`${c.what}: an error line names the file and ${words.join(", ")}`, line !== undefined, `${c.what}: no error line names the file (${file}) and ${words.map((w) => JSON.stringify(w)).join(", ")} (the JSON path, what was expected, what was found); ${shown}`);
    }
    const wanted = c.want.length;
    const problemLines = errors.filter((l) => l.includes(file));
    t.ensure(`${c.what}: one error line per problem`, problemLines.length === wanted, `${c.what}: ${wanted} problem(s), but ${problemLines.length} error line(s) name the file; ${shown}`);
  }
  const none = await runToExit(t, []);
  const text = none.lines.join("\n");
  t.ensure("no config path: a non-zero exit", none.code !== null && none.code !== 0, `with no config path the server should print its usage and exit with a non-zero code (exit ${none.code}); its output:\n    ${none.lines.join("\n    ")}`);
  t.ensure("no config path: the usage", /usage/i.test(text) && /CONFIG_FILE/.test(text), `with no config path the server should print its usage (naming CONFIG_FILE); its output:\n    ${none.lines.join("\n    ")}`);
  const missing = path.join(dir, "missing.json");
  const gone = await runToExit(t, [missing]);
  t.ensure("a config file that is not there: an error naming it", gone.code !== 0 && gone.lines.some((l) => l.startsWith("error:") && l.includes(missing)), `a config path that names no file should give an error naming it and a non-zero exit (exit ${gone.code}); its output:\n    ${gone.lines.join("\n    ")}`);
});
