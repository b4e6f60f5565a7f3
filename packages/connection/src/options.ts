// @stages 6-
// The command line of a stage's server, and the start of its process: what
// every stage's main() does before it creates anything. A stage's server
// takes --host, --ports and (from stage 11) --upstream, each also from an
// environment variable, and one optional positional argument, a config
// file path: the official eXpServer tester starts every stage's binary with
// one (argv[1]), and the server reads it from stage 16 on.
// From stage 12 on it also takes --public (or XPS_PUBLIC), the folder files // @since 12
// are served from. // @since 12
import net from "node:net";
import { parseArgs } from "node:util";
import {
  DEFAULT_HOST,
  DEFAULT_PORTS,
  describeError,
  describeNameError,
  formatHostPort,
  isLoopback,
  isNameError,
  isValidPort,
  logger,
  parseHostPort,
  scriptArgs,
  type HostPort,
} from "@xps/utils";

export interface ServerOptions {
  host: string;
  ports: number[];
  /** Only for stages with an upstream. */ // @since 11
  upstream: HostPort; // @since 11
  /** The folder files are served from (stage 12 on), as given: relative to the working directory. */ // @since 12
  publicDir: string; // @since 12
  /** The positional argument: a config file (read from stage 16 on), or null. */
  configPath: string | null;
  /** --host (or XPS_HOST) was given: from stage 16 it overrides every listener's host in the config. */ // @since 16
  hostGiven: boolean; // @since 16
}

export interface StageServerSpec {
  /** "stage-11" */
  stage: string;
  title: string;
  /** What each of the four ports does, for --help. */
  portRoles: readonly string[];
  /** The stage proxies to an upstream (adds --upstream). */ // @since 11
  upstream?: boolean; // @since 11
  /** The stage serves files from a public folder (adds --public). */ // @since 12
  files?: boolean; // @since 12
  /** The stage reads its config file (stage 16 on). */
  readsConfig?: boolean;
}

export class UsageError extends Error {}

export const DEFAULT_UPSTREAM: HostPort = { host: "127.0.0.1", port: 3000 }; // @since 11

// @since 12 begin
/**
 * Where the files are, unless --public says otherwise: as in the C course
 * and its tester, the folder public/ beside the working directory.
 */
export const DEFAULT_PUBLIC = "../public";
// @since end

export function usage(spec: StageServerSpec): string {
  // @since 16 begin
  if (spec.readsConfig) {
    return [
      `${spec.stage}: ${spec.title}`,
      "",
      "Usage: server.ts [--host HOST] CONFIG_FILE",
      "",
      "  CONFIG_FILE           the JSON config (xps_config.json): its servers, listeners and routes",
      "  --host HOST           listen on HOST on every port of the config, whatever its hosts say (XPS_HOST)",
      "  --help                this text",
    ].join("\n");
  }
  // @since end
  const roles = spec.portRoles.map((r, i) => `    port ${DEFAULT_PORTS[i]}: ${r}`).join("\n");
  return [
    `${spec.stage}: ${spec.title}`,
    "",
    `Usage: server.ts [options] [CONFIG_FILE]   (CONFIG_FILE: ${spec.readsConfig ? "the JSON config to serve" : "accepted and ignored before stage 16"})`,
    "",
    "Options (each also read from an environment variable):",
    `  --host HOST           address to listen on (XPS_HOST, default ${DEFAULT_HOST})`,
    `  --ports A,B,C,D       the four ports (XPS_PORTS, default ${DEFAULT_PORTS.join(",")})`,
    // @since 11 begin
    ...(spec.upstream
      ? [`  --upstream HOST:PORT  where port A proxies to (XPS_UPSTREAM, default ${formatHostPort(DEFAULT_UPSTREAM)})`]
      : []),
    // @since end
    // @since 12 begin
    ...(spec.files ? [`  --public DIR          the folder files are served from (XPS_PUBLIC, default ${DEFAULT_PUBLIC}: beside the working directory)`] : []),
    // @since end
    "  --help                this text",
    "",
    roles,
  ].join("\n");
}

/** Read the options from argv and the environment; throws UsageError with a fix when they are wrong. */
export function parseServerArgs(argv: string[], env: NodeJS.ProcessEnv, spec: StageServerSpec): ServerOptions | "help" {
  let values: { host?: string; ports?: string; upstream?: string; public?: string; help?: boolean }; // @since 12
  // @until 11: let values: { host?: string; ports?: string; upstream?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      options: {
        host: { type: "string" },
        ports: { type: "string" },
        upstream: { type: "string" },
        public: { type: "string" }, // @since 12
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: true,
    }));
  } catch (err) {
    throw new UsageError(`${(err as Error).message.split("\n")[0]} (run with --help for the options)`);
  }
  if (values.help) return "help";
  if (positionals.length > 1) {
    throw new UsageError(`one config file at most, got ${positionals.length} arguments (${positionals.map((p) => JSON.stringify(p)).join(", ")})`);
  }
  const configPath = positionals[0] ?? null;
  // @since 16 begin
  if (spec.readsConfig) {
    const other = values.ports !== undefined ? "--ports" : values.public !== undefined ? "--public" : values.upstream !== undefined ? "--upstream" : null;
    if (other !== null) throw new UsageError(`${other} is not an option of ${spec.stage}: the ports, the folders and the upstreams come from the config file`);
  }
  // @since end
  if (values.upstream !== undefined && !spec.upstream) { // @since 11
  // @until 10: if (values.upstream !== undefined) {
    throw new UsageError(`${spec.stage} has no upstream; --upstream belongs to stage 11 and later`);
  }
  // @since 12 begin
  if (values.public !== undefined && !spec.files) {
    throw new UsageError(`${spec.stage} serves no files; --public belongs to stage 12 and later`);
  }
  // @since end
  const host = values.host ?? env.XPS_HOST ?? DEFAULT_HOST;
  if (host.trim() === "") throw new UsageError("--host is empty; give an address such as 127.0.0.1");

  const portsText = values.ports ?? env.XPS_PORTS;
  let ports = [...DEFAULT_PORTS];
  if (portsText !== undefined) {
    ports = portsText.split(",").map((p) => Number(p.trim()));
    const bad = ports.some((p) => !isValidPort(p));
    if (ports.length !== DEFAULT_PORTS.length || bad || new Set(ports).size !== ports.length) {
      throw new UsageError(
        `--ports wants ${DEFAULT_PORTS.length} different ports from 1 to 65535, comma-separated (like ${DEFAULT_PORTS.join(",")}); got "${portsText}"`,
      );
    }
  }

  // @since 11 begin
  let upstream = DEFAULT_UPSTREAM;
  const upstreamText = values.upstream ?? (spec.upstream ? env.XPS_UPSTREAM : undefined);
  if (upstreamText !== undefined) {
    const parsed = parseHostPort(upstreamText);
    if (parsed === null) {
      const text = upstreamText.trim();
      const port = /^\[?\s*\]?:(\d+)$/.exec(text)?.[1];
      if (port !== undefined) {
        throw new UsageError(`--upstream "${upstreamText}" has no host before the colon; write one, like 127.0.0.1:${port} for this machine`);
      }
      throw new UsageError(`--upstream wants HOST:PORT with a port from 1 to 65535 (like 127.0.0.1:3000); got "${upstreamText}"`);
    }
    upstream = parsed;
  }
  // @since end
  // @since 12 begin
  const publicDir = values.public ?? (spec.files ? env.XPS_PUBLIC : undefined) ?? DEFAULT_PUBLIC;
  if (publicDir.trim() === "") throw new UsageError(`--public is empty; give a folder, such as ${DEFAULT_PUBLIC}`);
  return { host, ports, upstream, publicDir, configPath, hostGiven: (values.host ?? env.XPS_HOST) !== undefined }; // @since 16
  // @until 15: return { host, ports, upstream, publicDir, configPath };
  // @since end
  // @only 11: return { host, ports, upstream, configPath };
  // @until 10: return { host, ports, configPath };
}

/** The error of binding host:port (port 0: any port, to test the host alone), or null when it can be bound. */
async function bindError(host: string, port: number): Promise<NodeJS.ErrnoException | null> {
  const server = net.createServer();
  const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
    server.once("error", resolve);
    server.listen({ host, port }, () => resolve(null));
  });
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return err;
}

/** Why nothing can listen on `host`, on any port (a problem of --host, not of --ports); null when it can. */
export async function listenHostProblem(host: string): Promise<string | null> {
  const err = await bindError(host, 0);
  if (err === null) return null;
  const code = err.code ?? err.message;
  const why = isNameError(err.code)
    ? `the host name could not be resolved (${describeNameError(code)})`
    : err.code === "EADDRNOTAVAIL"
      ? `it is not an address of this machine (EADDRNOTAVAIL)`
      : `listen() refuses it (${code})`;
  return `cannot listen on ${host}: ${why}; use --host 127.0.0.1 (the default: this machine only)`;
}

/** After serverStart failed on a host that can be listened on: which port failed, and what to do. */
export async function listenPortsProblem(host: string, ports: number[]): Promise<string> {
  for (const port of ports) {
    const err = await bindError(host, port);
    if (err === null) continue;
    if (err.code === "EADDRINUSE") return `could not listen on every port: port ${port} is already in use; pick free ones with --ports A,B,C,D`;
    if (err.code === "EACCES") return `could not listen on every port: port ${port} needs privileges (EACCES); pick ports from 1024 up with --ports A,B,C,D`;
    return `could not listen on port ${port} (${err.code ?? err.message})`;
  }
  return "could not listen on every port (the ERROR line above says why)";
}

/**
 * The WARNING for listeners bound beyond loopback (--host 0.0.0.0, ::, or an
 * address of a network interface), or null when every listener is loopback
 * only. `addresses` are the addresses the listeners are bound to.
 */
export function exposureWarning(addresses: string[], ports: number[], spec: StageServerSpec, upstream?: HostPort): string | null {
  const open = addresses.find((a) => !isLoopback(a));
  if (open === undefined) return null;
  const where = open === "0.0.0.0" || open === "::" ? `${open} (every network interface of this machine)` : `${open} (an address other machines can reach)`;
  const roles = ports.map((p, i) => `${p} (${spec.portRoles[i] ?? "?"})`);
  const list = roles.length > 1 ? `${roles.slice(0, -1).join(", ")} and ${roles.at(-1)}` : roles.join("");
  const proxy =
    upstream !== undefined
      ? `, and the proxy hands them whatever the upstream ${formatHostPort(upstream)} serves (python3 -m http.server serves every file under the folder it was started in)`
      : "";
  return `listening on ${where}: other machines can connect to ports ${list}${proxy}; to listen on this machine only, use --host 127.0.0.1 (the default)`;
}

/**
 * The start of main(): read the options (a wrong one is one line on stderr
 * and exit code 2; --help prints the usage and exits 0), and make sure
 * nothing a client does can end the process.
 */
export function startProcess(spec: StageServerSpec): ServerOptions {
  let options: ServerOptions | "help";
  try {
    options = parseServerArgs(scriptArgs(), process.env, spec);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`error: ${err.message}\n`);
    process.exit(2);
  }
  if (options === "help") {
    process.stdout.write(usage(spec) + "\n");
    process.exit(0);
  }
  // @since 16 begin
  if (spec.readsConfig && options.configPath === null) {
    process.stderr.write(`error: no config file path given\n\n${usage(spec)}\n`);
    process.exit(2);
  }
  // @since end
  // Last line of defence: every handler is already guarded, but nothing a
  // client does may end the process.
  process.on("uncaughtException", (err) => {
    logger("ERROR", "process", `uncaught exception: ${describeError(err)}; the server keeps running`);
  });
  process.on("unhandledRejection", (err) => {
    logger("ERROR", "process", `unhandled rejection: ${describeError(err)}; the server keeps running`);
  });
  if (options.configPath !== null && !spec.readsConfig) {
    logger("INFO", "startProcess()", `the config file ${options.configPath} is not read before stage 16; the defaults apply`, true);
  }
  return options;
}
