// xps run <stage>: the stage's server with the learner's code (or the
// reference), as `pnpm --filter stage-NN start` starts it (from stage 12,
// serving the course's public/ folder). For a stage with
// an upstream (its server.ts declares `upstream: true`, stage 11 on), when
// nothing listens on the upstream address and it is this machine, it first
// starts python3 -m http.server there, serving docs/ (or --dir).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pc from "picocolors";
import { parseHostPort } from "@xps/utils/net";
import { CommandError, UsageError, assertReferenceHeld, repoRoot, shown, stageArg, userPath, type StageMeta } from "../context.ts";

const REGISTER = fileURLToPath(import.meta.resolve("@xps/course/variant"));
const DEFAULT_UPSTREAM = "127.0.0.1:3000";

export interface RunOptions {
  solution?: boolean;
  ports?: string;
  host?: string;
  upstream?: string;
  dir?: string;
  upstreamStart?: boolean;
}

/** Does this stage's server serve files? (Its composition says `files: true`, stage 12 on.) */
export function servesFiles(stage: StageMeta): boolean {
  const file = path.join(stage.dir, "server.ts");
  return fs.existsSync(file) && /\bfiles:\s*true\b/.test(fs.readFileSync(file, "utf8"));
}

/** Does this stage's server proxy to an upstream? (Its composition says `upstream: true`.) */
export function hasUpstream(stage: StageMeta): boolean {
  const file = path.join(stage.dir, "server.ts");
  return fs.existsSync(file) && /\bupstream:\s*true\b/.test(fs.readFileSync(file, "utf8"));
}

export function listening(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (v: boolean): void => {
      clearTimeout(t);
      s.destroy();
      resolve(v);
    };
    const t = setTimeout(() => done(false), timeoutMs);
    s.once("connect", () => done(true));
    s.once("error", () => done(false));
  });
}

async function waitListening(host: string, port: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await listening(host, port, 300)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

const LOCAL = new Set(["127.0.0.1", "localhost", "::1"]);

export async function runCommand(stageName: string, opts: RunOptions): Promise<number> {
  const stage = stageArg(stageName);
  if (opts.solution) assertReferenceHeld(stage);
  const upstreamStage = hasUpstream(stage);
  if (opts.upstream !== undefined && !upstreamStage) {
    throw new UsageError(`${stage.name} has no upstream`, "--upstream belongs to stage 11 and later");
  }
  const args: string[] = [];
  if (opts.ports) args.push("--ports", opts.ports);
  if (opts.host) args.push("--host", opts.host);
  // The course's public/ folder, as `pnpm --filter stage-NN start` gives it (the server's own default, ../public, is the tester's layout).
  if (servesFiles(stage) && process.env.XPS_PUBLIC === undefined) args.push("--public", path.join(repoRoot, "public"));
  const children: ChildProcess[] = [];

  if (upstreamStage) {
    const text = opts.upstream ?? process.env.XPS_UPSTREAM ?? DEFAULT_UPSTREAM;
    const up = parseHostPort(text);
    if (up === null) throw new UsageError(`--upstream wants HOST:PORT (like ${DEFAULT_UPSTREAM}), not "${text}"`, `try --upstream ${DEFAULT_UPSTREAM}`);
    args.push("--upstream", text);
    if (!(await listening(up.host, up.port))) {
      if (opts.upstreamStart === false) {
        console.log(pc.yellow(`nothing listens on ${text}; not starting an upstream (--no-upstream-start)`));
      } else if (!LOCAL.has(up.host)) {
        console.log(pc.yellow(`nothing listens on ${text}, and it is not this machine: start your upstream there`));
      } else if (spawnSync("python3", ["--version"], { stdio: "ignore" }).status !== 0) {
        console.log(pc.yellow(`nothing listens on ${text}, and python3 is not installed to serve one (on Debian: sudo apt-get install python3)`));
      } else {
        const dir = opts.dir ? userPath(opts.dir) : path.join(repoRoot, "docs");
        if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new UsageError(`--dir ${opts.dir} is not a folder`, "name a folder for python3 -m http.server to serve");
        const bind = up.host === "localhost" ? "127.0.0.1" : up.host;
        const py = spawn("python3", ["-m", "http.server", String(up.port), "--bind", bind, "--directory", dir], { stdio: ["ignore", "inherit", "inherit"] });
        children.push(py);
        if (!(await waitListening(up.host, up.port, 10_000))) {
          py.kill("SIGTERM");
          throw new CommandError(`python3 -m http.server did not start on ${text}`);
        }
        console.log(pc.dim(`started the upstream: python3 -m http.server on ${text}, serving ${shown(dir)} (stops with the server)`));
      }
    }
  }

  const variant = opts.solution ? "solution" : "learner";
  console.log(pc.dim(`${stage.name} (${variant === "solution" ? "the reference solution" : `your code in ${shown(path.join(stage.dir, "src"))}`}); Ctrl+C stops it`));
  const server = spawn(process.execPath, ["--import", "tsx", "--import", REGISTER, path.join(stage.dir, "server.ts"), ...args], {
    cwd: stage.dir,
    env: { ...process.env, XPS_VARIANT: variant, XPS_STAGE_DIR: stage.dir },
    stdio: "inherit",
  });
  children.push(server);
  const stopAll = (): void => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGTERM");
  };
  process.on("SIGINT", stopAll);
  process.on("SIGTERM", stopAll);
  const code = await new Promise<number>((resolve) => server.once("exit", (c, sig) => resolve(c ?? (sig === "SIGINT" || sig === "SIGTERM" ? 0 : 1))));
  stopAll();
  await Promise.all(children.map((c) => (c.exitCode !== null || c.signalCode !== null ? null : new Promise((r) => c.once("exit", r)))));
  return code;
}
