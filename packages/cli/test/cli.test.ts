// The command line itself: --help everywhere, and a wrong argument is one
// line with the fix and exit code 2.
import { describe, expect, test } from "vitest";
import { xps } from "./helpers.ts";

const COMMANDS = ["status", "test", "watch", "hint", "run", "reset", "diff", "grade", "export"];

describe("help", () => {
  test("xps --help lists every command", () => {
    const r = xps(["--help"]);
    expect(r.code).toBe(0);
    for (const c of COMMANDS) expect(r.stdout).toMatch(new RegExp(`^  ${c} `, "m"));
  });

  test.each(COMMANDS)("xps %s --help", (c) => {
    const r = xps([c, "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Usage: xps ${c} `));
  });
});

describe("wrong arguments: one line, the fix, exit code 2", () => {
  const cases: [string[], RegExp][] = [
    [[], /^xps: name a command; see pnpm xps --help$/],
    [["tset", "10"], /^xps: unknown command 'tset' \(Did you mean test\?\); see pnpm xps --help$/],
    [["test"], /^xps test: missing required argument 'stage'; see pnpm xps test --help$/],
    [["test", "99"], /^xps test: there is no stage "99"; pick one of stage-\d\d, stage-\d\d,.* stage-11/],
    [["test", "10", "--bogus"], /^xps test: unknown option '--bogus'; see pnpm xps test --help$/],
    [["test", "10", "-m", "m99"], /^xps test: stage-10 has no milestone "m99"; use one of m1, m2/],
    [["hint", "10", "h99"], /^xps hint: stage-10 has no hint "h99"; use one of h1/],
    [["hint", "10", "h1", "--level", "9"], /^xps hint: --level wants 1 to \d for h1, not "9"/],
    [["reset", "10", "nope.ts"], /^xps reset: stage-10 has no file "nope.ts" of yours; name one of pipe.ts, connection.ts$/],
    [["run", "10", "--upstream", "127.0.0.1:3000"], /^xps run: stage-10 has no upstream; --upstream belongs to stage 11 and later$/],
    [["grade", "--format", "xml"], /^xps grade: option '--format <f\.\.\.>' argument 'xml' is invalid\. Allowed choices are table, json, gradescope, junit, csv; see pnpm xps grade --help$/],
    [["grade", "--submissions", "/nonexistent/xps"], /^xps grade: --submissions \/nonexistent\/xps is not a folder; name the folder/],
    [["grade", "--run-timeout", "soon"], /^xps grade: --run-timeout wants a number of seconds above 0, not "soon"; try --run-timeout 120$/],
    [["export", "student", "/tmp/xps-never"], /^xps export: xps export student needs --through N; write pnpm xps export student OUT --through \d+$/],
    [["export", "teacher", "/tmp/xps-never", "--through", "10"], /^xps export: command-argument value 'teacher' is invalid for argument 'kind'/],
    [["export", "student", ".", "--through", "10"], /^xps export: \. is inside the course/],
  ];
  test.each(cases)("xps %j", (args, message) => {
    const r = xps(args);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
  });
});
