// Hostile: surviving processes. Leave processes behind that try to outlive
// the run: a detached one and a setsid one, each named so that they can be
// found.
import * as hcp from "node:child_process";

try {
  hcp.spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)", "xps-hostile-survivor"], { detached: true, stdio: "ignore" }).unref();
  hcp.spawn("setsid", ["sh", "-c", "sleep 600; : xps-hostile-survivor"], { detached: true, stdio: "ignore" }).unref();
} catch {
  // keep loading
}
