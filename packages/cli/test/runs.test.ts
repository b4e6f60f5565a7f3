// The commands that run a stage: test (milestone by milestone, with the
// transcript of each failure), watch (again on every change) and run (the
// server, stage 11 with its upstream). The learner's files come from a
// pristine skeleton in the stage's .xps/ (XPS_LEARNER_DIR), so the
// checkout's own src/ is never read or written, and results go to a scratch
// folder (XPS_RESULTS_DIR).
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { writeSkeleton } from "@xps/course/gen";
import { freePorts } from "@xps/testkit";
import { stage, tmpDir, xps, xpsBackground } from "./helpers.ts";

const s10 = stage("stage-10");
let learner = "";
let results = "";
beforeAll(() => {
  fs.mkdirSync(path.join(s10.dir, ".xps"), { recursive: true });
  learner = fs.mkdtempSync(path.join(s10.dir, ".xps", "cli-test-"));
  writeSkeleton("stage-10", learner);
  results = tmpDir("results");
});
afterAll(() => {
  fs.rmSync(learner, { recursive: true, force: true });
  fs.rmSync(results, { recursive: true, force: true });
});

describe("xps test", () => {
  test("a pristine skeleton: each failure with its transcript, hint and replay command; exit 1", () => {
    const r = xps(["test", "10", "-m", "m1", "-m", "m7"], { env: { XPS_LEARNER_DIR: learner, XPS_RESULTS_DIR: results } });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^stage-10 Pipes: your code \(.*\.xps\/cli-test-/m);
    expect(r.stdout).toMatch(/^ {2}✗ M1 every port echoes text and binary data byte-exact\s+0\/15 points$/m);
    expect(r.stdout).toMatch(/^ {6}port \d+ \(text, 1 byte\) did not echo the 1 byte it was sent$/m);
    expect(r.stdout).toMatch(/^ {8}sent: {5}"\\n" \(1 byte\)$/m);
    expect(r.stdout).toMatch(/first difference at byte 0: expected 0x0a, got nothing/);
    expect(r.stdout).toMatch(/hint: {3}pnpm xps hint stage-10 h1/);
    expect(r.stdout).toMatch(/replay: pnpm test --filter stage-10 -- -t "\^M1 "/);
    const ms = stage("stage-10").milestones ?? [];
    const points = (id: string): number => ms.find((m) => m.id === id)!.points;
    expect(r.stdout).toMatch(new RegExp(`^ {2}✗ M7 the pipe module's own rules\\s+0/${points("m7")} points$`, "m"));
    expect(r.stdout).toMatch(/^ {6}✗ new ends and a new pipe {2}\(below\)$/m);
    expect(r.stdout).toMatch(/this check called code of yours that is still a TODO \(stage-10 TODO 1\)/);
    expect(r.stdout).not.toMatch(/M2 /);
    expect(r.stdout).toMatch(new RegExp(`0 of 2 milestones pass \\(0 of ${points("m1") + points("m7")} points\\) \\(only M1, M7\\)`));
    // A run on other files than the learner's src/ is not the learner's status.
    expect(fs.readdirSync(results)).toEqual([]);
  });

  test("a missing learner file: one line that says how to get it back", () => {
    const empty = fs.mkdtempSync(path.join(s10.dir, ".xps", "cli-test-empty-"));
    try {
      const r = xps(["test", "10"], { env: { XPS_LEARNER_DIR: empty, XPS_RESULTS_DIR: results } });
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toMatch(/^xps test: .*cli-test-empty-.*\/pipe\.ts is missing; put back its pristine skeleton with: pnpm xps reset stage-10 pipe\.ts$/);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });

  test("--solution: every milestone passes, exit 0, recorded apart from the learner's", () => {
    const r = xps(["test", "stage-10", "--solution", "-m", "m7"], { env: { XPS_RESULTS_DIR: results } });
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/^stage-10 Pipes: the reference solution$/m);
    const m7 = (stage("stage-10").milestones ?? []).find((m) => m.id === "m7")!;
    expect(r.stdout).toMatch(new RegExp(`^ {2}✓ M7 the pipe module's own rules\\s+${m7.points}/${m7.points} points$`, "m"));
    expect(fs.readdirSync(results)).toEqual(["stage-10.solution.json"]);
    const rec = JSON.parse(fs.readFileSync(path.join(results, "stage-10.solution.json"), "utf8")) as { variant: string; milestones: Record<string, { status: string }> };
    expect(rec.variant).toBe("solution");
    expect(rec.milestones.m7!.status).toBe("passed");
  });

  test("--previous runs the stages a stage builds on first", () => {
    const r = xps(["test", "11", "--previous", "--solution"], { env: { XPS_RESULTS_DIR: results }, timeoutMs: 600_000 });
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout.indexOf("stage-10 Pipes")).toBeGreaterThanOrEqual(0);
    expect(r.stdout.indexOf("stage-10 Pipes")).toBeLessThan(r.stdout.indexOf("stage-11 Upstream"));
    for (const name of ["stage-10", "stage-11"]) {
      const n = (stage(name).milestones ?? []).length;
      expect(r.stdout).toMatch(new RegExp(`^${name}: ${n} of ${n} milestones pass \\(100 of 100 points\\)$`, "m"));
    }
  }, 600_000);
});

describe("xps watch", () => {
  test("runs, then runs again when a file of the learner's changes", async () => {
    const w = xpsBackground(["watch", "10", "-m", "m7"], { env: { XPS_LEARNER_DIR: learner, XPS_RESULTS_DIR: results } });
    try {
      expect(await w.waitFor(/watching .* for changes/, 60_000)).toBe(true);
      expect(w.output()).toMatch(/first run/);
      fs.appendFileSync(path.join(learner, "pipe.ts"), "\n// a change\n");
      expect(await w.waitFor(/pipe\.ts changed[\s\S]*watching .* for changes/, 60_000)).toBe(true);
      expect(w.output().match(/0 of 1 milestones pass/g)).toHaveLength(2);
    } finally {
      await w.stop();
    }
  }, 150_000);
});

function echo(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1");
    let got = "";
    s.on("data", (d) => {
      got += d;
      if (got.length >= text.length) {
        s.destroy();
        resolve(got);
      }
    });
    s.on("error", reject);
    s.write(text);
  });
}

describe("xps run", () => {
  test("stage 10's server echoes on its ports until stopped", async () => {
    const ports = await freePorts(4);
    const w = xpsBackground(["run", "10", "--solution", "--ports", ports.join(",")]);
    try {
      expect(await w.waitFor(new RegExp(`Server listening on http://127.0.0.1:${ports[3]}`), 30_000)).toBe(true);
      expect(await echo(ports[1]!, "hello\n")).toBe("hello\n");
    } finally {
      await w.stop();
    }
  }, 60_000);

  test("stage 11 starts python3 -m http.server as its upstream when none is listening", async () => {
    const [up, ...ports] = await freePorts(5);
    const w = xpsBackground(["run", "11", "--solution", "--ports", ports.join(","), "--upstream", `127.0.0.1:${up}`]);
    try {
      expect(await w.waitFor(new RegExp(`started the upstream: python3 -m http.server on 127.0.0.1:${up}`), 30_000)).toBe(true);
      expect(await w.waitFor(new RegExp(`Server listening on http://127.0.0.1:${ports[3]}`), 30_000)).toBe(true);
      const res = await fetch(`http://127.0.0.1:${ports[0]}/`);
      expect(res.status).toBe(200);
      expect(await res.text()).toMatch(/Directory listing for \/[\s\S]*getting-started\.md/);
    } finally {
      expect(await w.stop()).toBe(0);
    }
    // Both are gone: nothing listens on the upstream's port any more.
    await expect(fetch(`http://127.0.0.1:${up}/`)).rejects.toThrow();
  }, 90_000);
});
