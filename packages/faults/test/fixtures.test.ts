// Each fault test must fail against a deliberately broken server (fixtures/
// server.ts): this runs the fault suite once per fixture, limited to the tests
// that fixture targets, and requires every one of them to fail. A fault test
// that passes against its broken fixture could not tell a sound server from a
// broken one.
import path from "node:path";
import { expect, test } from "vitest";
import { runSuite } from "@xps/testkit/runner";

const BREAKS: Record<string, string[]> = {
  "proxy-ignores-refusal": ["F1"],
  "proxy-deaf-close": ["F2"],
  "proxy-close-on-upstream-eof": ["F3"],
  "no-backpressure": ["F4"],
  "crash-on-reset": ["F5"],
  "close-on-eof": ["F6"],
  "spin-when-idle": ["F7"],
  "text-echo": ["F8"],
  "max-100-connections": ["F9"],
  "deaf-sink-close": ["F10"],
  "boom-escapes": ["F11"],
  "no-lingering": ["F12"],
  "no-half-close": ["F13"],
  "reset-as-fin": ["F14"],
};

const dir = path.join(import.meta.dirname, "..");

test("every fault test is broken by one of the fixtures", async () => {
  const { FIXTURES } = await import("../fixtures/server.ts");
  const covered = new Set(Object.values(BREAKS).flat());
  for (let i = 1; i <= 14; i++) expect(covered.has(`F${i}`), `F${i} has no fixture that breaks it`).toBe(true);
  for (const name of Object.keys(BREAKS)) expect(FIXTURES, `fixture ${name}`).toContain(name);
});

for (const [fixture, tests] of Object.entries(BREAKS)) {
  test(`the fixture "${fixture}" makes ${tests.join(", ")} fail`, async () => {
    const pattern = `^(${tests.join("|")}) `;
    const run = await runSuite(dir, { XPS_FAULT_FIXTURE: fixture }, { files: ["test/faults.test.ts"], pattern });
    expect(run.ok, `vitest did not run: ${run.error}\n${run.output.slice(-2000)}`).toBe(true);
    const ran = [...run.passed, ...run.failed.map((f) => f.name)].filter((n) => tests.some((t) => n.startsWith(`${t} `)));
    expect(ran.length, `the run against ${fixture} ran none of ${tests.join(", ")}`).toBe(tests.length);
    const passed = run.passed.filter((n) => tests.some((t) => n.startsWith(`${t} `)));
    expect(passed, `these tests pass against the broken fixture "${fixture}"`).toEqual([]);
  }, 180_000);
}
