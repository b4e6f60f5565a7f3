// Where learner code runs: every process the tests start with a learner's
// code in it (a stage's server, an in-process probe) goes through here.
//
// Always: a clean environment (the variables the server reads, nothing of
// the test runner's). When grading (XPS_SANDBOX set, see below), also the
// strongest isolation the machine offers:
//
//   bubblewrap   `bwrap`, when installed: a PID namespace (the learner sees
//                only its own processes), the whole file system read-only, a
//                private size-limited scratch folder, the hidden tests and
//                the grader's output replaced by empty folders, no
//                capabilities, and everything killed with its parent.
//   namespaces   the same with util-linux's `unshare` and `setpriv`, when
//                the grader is root (CI, Gradescope's containers).
//   none         neither is available: only the layers below.
//
// and in every one of them: resource limits (prlimit: memory, file size,
// processes, CPU time) and Node's permission model for the learner's node
// process (reads limited to what the server needs, writes to its scratch).
// The network is shared: the milestones reach the server over loopback.
//
// XPS_SANDBOX: unset or "off" (a learner's own runs), "auto" (grading: the
// best of the three), or "bubblewrap", "namespaces", "none" (that one, or an
// error). XPS_SANDBOX_HIDE is a JSON list of paths to put out of reach,
// XPS_SANDBOX_DIR the folder where each process's scratch folder is made.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { findRepoRoot } from "@xps/course/overrides";

export type Isolation = "bubblewrap" | "namespaces" | "none";

export interface Limits {
  /** RLIMIT_DATA: the process's heap and buffers, in bytes. */
  dataBytes: number;
  /** RLIMIT_FSIZE: the largest file it may write. */
  fileBytes: number;
  /** RLIMIT_CPU, in seconds. */
  cpuSeconds: number;
  /** Processes and threads it may add (RLIMIT_NPROC counts the user's, so this is added to what runs now). */
  processes: number;
  /** Size of the scratch folder (a tmpfs under bubblewrap and namespaces). */
  scratchBytes: number;
}

export const DEFAULT_LIMITS: Limits = {
  dataBytes: 1024 * 1024 * 1024,
  fileBytes: 64 * 1024 * 1024,
  cpuSeconds: 600,
  processes: 512,
  scratchBytes: 128 * 1024 * 1024,
};

export interface SandboxConfig {
  isolation: Isolation;
  /** Node's permission model for the learner's node process. */
  permission: boolean;
  limits: Limits | null;
  hide: string[];
  /** Where the scratch folders are made. */
  dir: string;
}

/** The server-side variables a learner's process may get from the test's environment. */
const PASSED = ["XPS_VARIANT", "XPS_STAGE_DIR", "XPS_LEARNER_DIR", "XPS_OWN", "XPS_UPSTREAM", "XPS_PUBLIC", "XPS_HOST", "XPS_PORTS", "XPS_LOG", "XPS_DEBUG", "XPS_PASSES_PER_TURN", "XPS_FAULT_FIXTURE"];

const PERMISSION_FIX = fileURLToPath(new URL("./permission-fix.mjs", import.meta.url));

function works(command: string, args: string[]): boolean {
  try {
    return spawnSync(command, args, { stdio: "ignore", timeout: 10_000 }).status === 0;
  } catch {
    return false;
  }
}

interface Offers {
  bubblewrap: boolean;
  namespaces: boolean;
  prlimit: boolean;
  setpriv: boolean;
}

let probed: Offers | null = null;

/** What this machine offers (probed once). */
export function available(): Offers {
  if (probed === null) {
    const setpriv = works("setpriv", ["--help"]);
    probed = {
      bubblewrap: works("bwrap", ["--unshare-pid", "--die-with-parent", "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "true"]),
      namespaces: process.getuid?.() === 0 && setpriv && works("unshare", ["--pid", "--fork", "--kill-child", "--mount", "--mount-proc", "true"]),
      prlimit: works("prlimit", ["--version"]),
      setpriv,
    };
  }
  return probed;
}

/** The sandbox XPS_SANDBOX asks for, or null (no sandbox). Throws on a value it cannot honour. */
export function sandboxFromEnv(env: NodeJS.ProcessEnv = process.env): SandboxConfig | null {
  const want = env.XPS_SANDBOX ?? "off";
  if (want === "off" || want === "") return null;
  const has = available();
  let isolation: Isolation;
  if (want === "auto") isolation = has.bubblewrap ? "bubblewrap" : has.namespaces ? "namespaces" : "none";
  else if (want === "bubblewrap" || want === "namespaces" || want === "none") {
    if (want !== "none" && !has[want]) {
      throw new Error(want === "bubblewrap" ? "XPS_SANDBOX=bubblewrap, but bwrap is not installed or does not work here" : "XPS_SANDBOX=namespaces needs root and util-linux's unshare");
    }
    isolation = want;
  } else throw new Error(`XPS_SANDBOX must be off, auto, bubblewrap, namespaces or none, not "${want}"`);
  let hide: string[] = [];
  try {
    hide = env.XPS_SANDBOX_HIDE ? (JSON.parse(env.XPS_SANDBOX_HIDE) as string[]) : [];
  } catch {
    throw new Error("XPS_SANDBOX_HIDE must be a JSON list of paths");
  }
  return {
    isolation,
    permission: env.XPS_SANDBOX_PERMISSION !== "off",
    limits: DEFAULT_LIMITS,
    hide: hide.filter((p) => fs.existsSync(p)),
    dir: env.XPS_SANDBOX_DIR ?? os.tmpdir(),
  };
}

/** One line for reports: which isolation and which layers. */
export function describeSandbox(cfg: SandboxConfig | null): string {
  if (cfg === null) return "no sandbox";
  const what = {
    bubblewrap: "bubblewrap (PID namespace, read-only file system, private scratch, no capabilities)",
    namespaces: "unshare namespaces (PID and mount namespaces, read-only file system, private scratch, no capabilities)",
    none: "no namespaces (neither bubblewrap nor root's unshare here): same-user processes",
  }[cfg.isolation];
  const layers = [cfg.limits ? "resource limits" : "", cfg.permission ? "Node's permission model" : ""].filter(Boolean);
  return `${what}${layers.length ? `, with ${layers.join(" and ")}` : ""}`;
}

/** The environment of a learner's process: what a shell needs, the server's own variables, and `extra`. */
export function learnerEnv(base: NodeJS.ProcessEnv, extra: Record<string, string | undefined>, scratch?: string): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {
    PATH: base.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: scratch ?? base.HOME,
    TMPDIR: scratch ?? base.TMPDIR,
    LANG: base.LANG ?? "C.UTF-8",
    TZ: base.TZ,
  };
  for (const k of PASSED) if (base[k] !== undefined) env[k] = base[k];
  return { ...env, ...extra };
}

export interface Wrapped {
  command: string;
  args: string[];
  env: Record<string, string | undefined>;
  /** The process's scratch folder (HOME and TMPDIR), removed by `cleanup`. */
  scratch: string | null;
  cleanup(): void;
}

/** Tasks (processes and threads) the current user runs now: RLIMIT_NPROC counts them all. */
function userTasks(): number {
  const uid = process.getuid?.() ?? -1;
  let n = 0;
  for (const pid of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
      if (Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]) !== uid) continue;
      n += Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? 1);
    } catch {
      // gone
    }
  }
  return n;
}

function limitArgs(limits: Limits): string[] {
  return [
    `--data=${limits.dataBytes}`,
    `--fsize=${limits.fileBytes}`,
    `--cpu=${limits.cpuSeconds}`,
    `--nproc=${userTasks() + limits.processes}`,
    "--core=0",
    "--",
  ];
}

/**
 * What the learner's node process may read under the permission model: the
 * course, its own scratch, and `extra`. Node 20's list of allowed paths
 * breaks (or aborts) with more than a few entries that share a prefix, so
 * the list is short: the course's .xps folders (hidden tests, grading
 * copies) stay readable here, and the namespaces are what hide them.
 */
function readable(stageDir: string, extra: string[]): string[] {
  const out = new Set<string>();
  for (const p of [findRepoRoot(stageDir), ...extra]) {
    if (!fs.existsSync(p)) continue;
    // A folder as "folder*": itself and everything below it.
    out.add(fs.statSync(p).isDirectory() ? `${p}*` : p);
  }
  return [...out];
}

/** Node's own flags for the learner's node process. */
function permissionFlags(stageDir: string, scratch: string, read: string[]): string[] {
  // tsx compiles TypeScript in esbuild's own process and Node 20 runs module
  // hooks in a worker thread: every stage's node process needs both. Node 20
  // does not pass the permission model on to child processes. One flag per
  // path: Node 20.20 reads a comma in the value as part of the path.
  return [
    "--experimental-permission",
    ...readable(stageDir, [scratch, PERMISSION_FIX, ...read]).map((p) => `--allow-fs-read=${p}`),
    `--allow-fs-write=${scratch}/*`,
    "--allow-worker",
    "--allow-child-process",
    "--no-warnings",
    "--import",
    PERMISSION_FIX,
  ];
}

let counter = 0;

/**
 * The command that runs `command args` (a node process for the stage in
 * `stageDir`) in the sandbox, with its environment. Without a sandbox it is
 * the command itself with the clean environment.
 */
export function sandboxed(
  cfg: SandboxConfig | null,
  cmd: { command: string; args: string[]; env: Record<string, string | undefined>; cwd: string },
  opts: { stageDir: string; read?: string[] },
): Wrapped {
  if (cfg === null) return { command: cmd.command, args: cmd.args, env: cmd.env, scratch: null, cleanup: () => {} };
  fs.mkdirSync(cfg.dir, { recursive: true });
  const scratch = fs.mkdtempSync(path.join(cfg.dir, `sandbox-${process.pid}-${++counter}-`));
  fs.chmodSync(scratch, 0o1777);
  const env = { ...cmd.env, HOME: scratch, TMPDIR: scratch };
  let args = cmd.args;
  if (cfg.permission && cmd.command === process.execPath) args = [...permissionFlags(opts.stageDir, scratch, opts.read ?? []), ...args];
  const inner = cfg.limits && available().prlimit ? ["prlimit", ...limitArgs(cfg.limits), cmd.command, ...args] : [cmd.command, ...args];
  const cleanup = (): void => fs.rmSync(scratch, { recursive: true, force: true });
  const size = cfg.limits?.scratchBytes ?? DEFAULT_LIMITS.scratchBytes;
  if (cfg.isolation === "bubblewrap") {
    const hide = cfg.hide.flatMap((p) => (fs.statSync(p).isDirectory() ? ["--perms", "0000", "--tmpfs", p] : ["--ro-bind", "/dev/null", p]));
    const args2 = [
      "--die-with-parent",
      "--unshare-pid",
      "--new-session",
      "--cap-drop",
      "ALL",
      "--ro-bind",
      "/",
      "/",
      "--dev",
      "/dev",
      "--proc",
      "/proc",
      "--tmpfs",
      "/dev/shm",
      "--size",
      String(size),
      "--perms",
      "1777",
      "--tmpfs",
      scratch,
      ...hide,
      "--chdir",
      cmd.cwd,
      "--",
      ...inner,
    ];
    return { command: "bwrap", args: args2, env, scratch, cleanup };
  }
  if (cfg.isolation === "namespaces") {
    // PID 1 of the new namespaces is this shell: it makes every mount
    // read-only, mounts the scratch tmpfs and hides what must stay hidden,
    // then runs the command without any capability and waits for it. When it
    // ends (or unshare is killed), the kernel kills whatever is left inside.
    const script = [
      "set -e",
      "mount --make-rprivate /",
      `for m in $(awk '{print $2}' /proc/self/mounts | grep -v -e '^/proc' | sort -u); do mount -o remount,bind,ro "$m" 2>/dev/null || true; done`,
      `mount -t tmpfs -o size=${size},mode=1777 xps-scratch "$XPS_SCRATCH"`,
      `mount -t tmpfs -o size=${size},mode=1777 xps-shm /dev/shm`,
      'for h in "$@"; do [ "$h" = -- ] && break; if [ -d "$h" ]; then mount -t tmpfs -o size=4k,mode=0 xps-hidden "$h"; else mount --bind /dev/null "$h"; fi; done',
      'while [ "$1" != -- ]; do shift; done; shift',
      `cd "$XPS_CWD"`,
    "unset XPS_SCRATCH XPS_CWD",
      'setpriv --no-new-privs --bounding-set=-all --inh-caps=-all -- "$@"',
    ].join("\n");
    const args2 = [
      "--pdeathsig",
      "KILL",
      "--",
      "unshare",
      "--pid",
      "--fork",
      "--kill-child",
      "--mount",
      "--mount-proc",
      "--",
      "sh",
      "-c",
      script,
      "xps-sandbox",
      ...cfg.hide,
      "--",
      ...inner,
    ];
    return { command: "setpriv", args: args2, env: { ...env, XPS_SCRATCH: scratch, XPS_CWD: cmd.cwd }, scratch, cleanup };
  }
  return { command: inner[0]!, args: inner.slice(1), env, scratch, cleanup };
}

/** The process a sandbox runs in the end (bwrap, unshare and sh sit above it): `pid` or the first node process below it. */
export function innerPid(pid: number, exe: string = process.execPath): number {
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.shift()!;
    try {
      if (fs.realpathSync(`/proc/${p}/exe`) === fs.realpathSync(exe)) return p;
    } catch {
      // gone, or not ours to read
    }
    try {
      for (const task of fs.readdirSync(`/proc/${p}/task`)) {
        const kids = fs.readFileSync(`/proc/${p}/task/${task}/children`, "utf8").trim();
        if (kids) queue.push(...kids.split(/\s+/).map(Number));
      }
    } catch {
      // gone
    }
  }
  return pid;
}
