// pnpm demo: see stage 11 working in one command.
//
// Starts python3 -m http.server on 127.0.0.1:3000 serving the course's docs/
// folder, starts the stage 11 reference server in front of it (8001 proxies,
// 8002-8004 echo), prints where to look, and stops both on Ctrl+C.
//
//   pnpm demo [-- --port 3000] [--dir docs] [--ports 8001,8002,8003,8004]
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { LineLog, scriptArgs, waitForPort } from "@xps/utils";
import { repoRoot } from "./stages.ts";

const REGISTER = fileURLToPath(import.meta.resolve("@xps/course/variant"));

function fail(message: string, code = 1): never {
  process.stderr.write(`demo: ${message}\n`);
  process.exit(code);
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });
}

function prefixed(child: ChildProcess, label: string): void {
  const output = new LineLog(0);
  child.stdout?.on("data", (d: Buffer) => output.feed(d));
  child.stderr?.on("data", (d: Buffer) => output.feed(d));
  output.onLine((line) => {
    if (line !== null) process.stdout.write(`${label} ${line}\n`);
  });
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args: scriptArgs(),
      options: {
        port: { type: "string", default: "3000" },
        dir: { type: "string", default: path.join(repoRoot, "docs") },
        ports: { type: "string", default: "8001,8002,8003,8004" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    fail(`${(err as Error).message} (try pnpm demo -- --help)`, 2);
  }
  if (values.help) {
    console.log("pnpm demo [-- --port 3000] [--dir FOLDER] [--ports 8001,8002,8003,8004]");
    console.log("Starts python3 -m http.server on 127.0.0.1:PORT serving FOLDER (default: docs/), and the stage 11");
    console.log("reference server in front of it: the first port proxies to python, the others echo. Ctrl+C stops both.");
    return;
  }
  const upstreamPort = Number(values.port);
  if (!Number.isInteger(upstreamPort) || upstreamPort < 1 || upstreamPort > 65535) fail(`--port wants a port from 1 to 65535, not "${values.port}"`, 2);
  const dir = path.resolve(values.dir!);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) fail(`--dir ${dir} is not a folder`, 2);
  const ports = values.ports!.split(",").map(Number);
  if (spawnSync("python3", ["--version"], { stdio: "ignore" }).status !== 0) {
    fail("python3 is not installed; the demo's upstream is python3 -m http.server (on Debian: sudo apt-get install python3)");
  }
  for (const p of [upstreamPort, ...ports]) {
    if (!(await portFree(p))) fail(`port ${p} is already in use on 127.0.0.1; stop what uses it, or pick others with --port / --ports`);
  }

  const children: ChildProcess[] = [];
  let stopping = false;
  const stopAll = (code: number): void => {
    if (stopping) return;
    stopping = true;
    for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
    setTimeout(() => process.exit(code), 500).unref();
    Promise.all(children.map((c) => (c.exitCode !== null ? null : new Promise((r) => c.once("exit", r))))).then(() => process.exit(code));
  };
  process.on("SIGINT", () => {
    console.log("\nstopping the proxy and the upstream");
    stopAll(0);
  });
  process.on("SIGTERM", () => stopAll(0));

  const python = spawn("python3", ["-m", "http.server", String(upstreamPort), "--bind", "127.0.0.1", "--directory", dir], { stdio: ["ignore", "pipe", "pipe"] });
  children.push(python);
  prefixed(python, "[python]");
  python.once("exit", (code) => {
    if (!stopping) {
      console.error(`demo: python3 -m http.server exited (code ${code})`);
      stopAll(1);
    }
  });
  if (!(await waitForPort(upstreamPort, 10_000))) {
    console.error(`demo: python3 -m http.server did not start on port ${upstreamPort}`);
    stopAll(1);
    return;
  }

  const server = spawn(
    process.execPath,
    ["--import", "tsx", "--import", REGISTER, path.join(repoRoot, "stages", "stage-11-upstream", "server.ts"), "--upstream", `127.0.0.1:${upstreamPort}`, "--ports", ports.join(",")],
    { cwd: path.join(repoRoot, "stages", "stage-11-upstream"), env: { ...process.env, XPS_VARIANT: "solution" }, stdio: ["ignore", "pipe", "pipe"] },
  );
  children.push(server);
  prefixed(server, "[xps]");
  server.once("exit", (code) => {
    if (!stopping) {
      console.error(`demo: the stage 11 server exited (code ${code})`);
      stopAll(1);
    }
  });
  if (!(await waitForPort(ports[0]!, 20_000))) {
    console.error("demo: the stage 11 server did not start listening");
    stopAll(1);
    return;
  }
  console.log("");
  console.log(`  python's file server:        http://127.0.0.1:${upstreamPort}/   (serving ${path.relative(process.cwd(), dir) || dir})`);
  console.log(`  the same, through eXpServer: http://127.0.0.1:${ports[0]}/`);
  console.log(`  try:   curl -s http://127.0.0.1:${ports[0]}/ | head`);
  console.log(`         nc 127.0.0.1 ${ports[1]}      (echo: type a line, it comes back)`);
  console.log("  Ctrl+C stops both.");
  console.log("");
}

await main();
