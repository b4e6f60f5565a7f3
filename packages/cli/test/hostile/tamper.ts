// Hostile: course and hidden-test tampering. Rewrite the course's own tests
// so that they pass anything, the testkit, and the instructor's hidden tests,
// directly and through a shell.
import * as hcp from "node:child_process";
import * as hfs from "node:fs";
import * as hpath from "node:path";

try {
  let root = process.cwd();
  while (root !== hpath.dirname(root) && !hfs.existsSync(hpath.join(root, "pnpm-workspace.yaml"))) root = hpath.dirname(root);
  const targets: string[] = [hpath.join(root, "packages", "testkit", "src", "stage.ts")];
  for (const s of hfs.readdirSync(hpath.join(root, "stages"))) {
    const dir = hpath.join(root, "stages", s);
    for (const f of hfs.existsSync(hpath.join(dir, "test")) ? hfs.readdirSync(hpath.join(dir, "test")) : []) targets.push(hpath.join(dir, "test", f));
    for (const e of hfs.existsSync(hpath.join(dir, ".xps")) ? hfs.readdirSync(hpath.join(dir, ".xps")) : []) {
      if (e.startsWith("hidden")) for (const f of hfs.readdirSync(hpath.join(dir, ".xps", e))) targets.push(hpath.join(dir, ".xps", e, f));
    }
  }
  const pass = 'import { test } from "vitest";\ntest("M1 tampered", () => {});\n';
  for (const t of targets.filter((f) => f.endsWith(".ts"))) {
    try {
      hfs.writeFileSync(t, pass);
    } catch {
      try {
        hcp.execFileSync("sh", ["-c", 'printf "%s" "$1" > "$2"', "sh", pass, t], { stdio: "ignore" });
      } catch {
        // not allowed either
      }
    }
  }
} catch {
  // keep loading
}
