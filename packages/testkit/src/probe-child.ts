// A probe (see probe.ts): a child process that loads one in-process check's
// test file, with the learner's modules in place (the variant hooks, as in
// a server), runs that one check and reports its observations on fd 3. The
// parent's nonce comes on stdin, before any learner code loads.
import fs from "node:fs";
import { pathToFileURL } from "node:url";
import { ProbeChannel, probeTarget } from "./probe.ts";
import { runProbe } from "./stage.ts";

const nonce = fs.readFileSync(0, "utf8").trim();
const channel = new ProbeChannel(nonce);
if (probeTarget === null) {
  channel.end({ status: "failed", message: "XPS_PROBE_FILE is not set" });
  process.exit(2);
}
try {
  await import(pathToFileURL(probeTarget.file).href);
} catch (err) {
  channel.end({ status: "failed", message: `the test file did not load: ${(err as Error).message}` });
  process.exit(1);
}
await runProbe(channel);
process.exit(0);
