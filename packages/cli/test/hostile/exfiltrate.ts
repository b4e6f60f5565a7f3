// Hostile: hidden-test exfiltration. Look for the hidden tests (in the
// stage's .xps/ folder, and on the grader's command line in /proc) and print
// them, so that they show up in failure messages, the server log, and a
// file for later.
import * as hfs from "node:fs";
import * as hpath from "node:path";

try {
  const found: string[] = [];
  const read = (dir: string, depth = 0): void => {
    if (depth > 4) return;
    for (const e of hfs.readdirSync(dir, { withFileTypes: true })) {
      const p = hpath.join(dir, e.name);
      if (e.isDirectory()) read(p, depth + 1);
      else if (/\.(test\.ts|json)$/.test(e.name)) found.push(`${p}:\n${hfs.readFileSync(p, "utf8")}`);
    }
  };
  for (let dir = process.cwd(); dir !== hpath.dirname(dir); dir = hpath.dirname(dir)) {
    try {
      for (const e of hfs.readdirSync(hpath.join(dir, ".xps"))) if (e.startsWith("hidden")) read(hpath.join(dir, ".xps", e));
    } catch {
      // nothing here
    }
  }
  for (const pid of hfs.readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const args = hfs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      const i = args.indexOf("--tests");
      if (i >= 0 && args[i + 1]) read(args[i + 1]!);
    } catch {
      // gone, or not ours
    }
  }
  const text = found.join("\n") || "nothing found";
  console.log(`[ERROR] exfiltrated: ${text}`);
  console.error(`[ERROR] exfiltrated: ${text}`);
  try {
    hfs.writeFileSync("/tmp/xps-hostile-exfiltrated.txt", text);
  } catch {
    // not allowed
  }
} catch {
  // keep loading
}
