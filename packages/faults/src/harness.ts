// The fault suite's harness: which server the tests run against, and
// failures that carry that server's log.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { MilestoneFailure, formatTranscript, startStageServer, type StageServer, type Transcript } from "@xps/testkit";
import { findRepoRoot } from "@xps/course/overrides";

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO = findRepoRoot(here);
export const STAGE11 = path.join(REPO, "stages", "stage-11-upstream");
export const FIXTURE_SCRIPT = path.join(here, "..", "fixtures", "server.ts");

/** When set, every test runs against this broken fixture instead of the reference. */
export const FIXTURE = process.env.XPS_FAULT_FIXTURE || null;

const running: StageServer[] = [];
const undo: (() => unknown)[] = [];

/**
 * The server under test: the stage 11 reference (port A proxies to
 * `upstreamPort`, B-D echo), or the fixture named by XPS_FAULT_FIXTURE.
 * `reference` names the fixture that stands for the reference in this test
 * (only "boom": the reference core with a buggy route).
 */
export async function target(upstreamPort: number, reference?: "boom"): Promise<StageServer> {
  const fixture = FIXTURE ?? reference ?? null;
  const server = await startStageServer({
    stageDir: STAGE11,
    variant: "solution",
    script: fixture ? FIXTURE_SCRIPT : undefined,
    args: ["--upstream", `127.0.0.1:${upstreamPort}`],
    env: { XPS_LOG: "quiet", ...(fixture ? { XPS_FAULT_FIXTURE: fixture } : {}) },
  });
  running.push(server);
  return server;
}

export function later(fn: () => unknown): void {
  undo.push(fn);
}

/** Stop what the last test started (vitest afterEach). */
export async function cleanUp(): Promise<void> {
  for (const f of undo.splice(0).reverse()) {
    try {
      await f();
    } catch {
      // a failed clean-up must not hide the result
    }
  }
  await Promise.all(running.splice(0).map((s) => s.stop()));
}

/** Fail with a transcript and the last lines of every running server's log. */
export function fail(t: Transcript | string): never {
  const lines = [typeof t === "string" ? t : formatTranscript(t)];
  for (const s of running) {
    const state = s.alive() ? "running" : `exited (${s.exitCode ?? s.exitSignal})`;
    lines.push(`  server (${FIXTURE ? `fixture ${FIXTURE}` : "reference"}, ${state}), last log lines:`);
    lines.push(...(s.logTail(6).map((l) => `    ${l}`) || []));
  }
  throw new MilestoneFailure(lines.join("\n"));
}

/** Wait until the server's counts come back to `want` (or the time is up); returns the last stats. */
export async function settle(server: StageServer, want: { connections: number; pipes: number }, ms = 5000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const stats = await server.stats();
    if ((stats.connections === want.connections && stats.pipes === want.pipes) || Date.now() > deadline) return stats;
    await new Promise((r) => setTimeout(r, 100));
  }
}
