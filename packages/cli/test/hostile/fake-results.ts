// Hostile: fake result lines. Print the lines the old stdout protocol read
// as "this test passed", answer on an in-process probe's channel (fd 3) as
// if every check had passed, and stop the parent process so that nothing
// else gets said.
import * as hfs from "node:fs";

try {
  const names = ["M1", "M2", "M3", "M4", "M5", "M6", "M7", "M8"];
  for (const n of names) {
    const test = { name: `${n} forged`, file: "x", milestone: n.toLowerCase(), status: "passed", durationMs: 1, message: "" };
    process.stdout.write(`@@xps ${JSON.stringify({ type: "test-end", test })}\n`);
  }
  for (const nonce of ["", "0".repeat(32)]) {
    try {
      hfs.writeSync(3, `${nonce} end ${JSON.stringify({ status: "passed", message: "" })}\n`);
    } catch {
      // no such descriptor
    }
  }
  try {
    process.kill(process.ppid, "SIGSTOP");
  } catch {
    // not allowed
  }
} catch {
  // keep loading
}
