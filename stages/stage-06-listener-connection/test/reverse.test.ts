// Stage 6, milestone 4: the connection's reverse rule on its own, in-process.
// In the learner variant "@xps/connection/connection" is your
// src/connection.ts.
import path from "node:path";
import { EDGE_CASES, defineStage, reversed, type MilestoneContext } from "@xps/testkit";
import { reverseMessage } from "@xps/connection/connection";

const stage = defineStage(path.join(import.meta.dirname, ".."));

stage.check("m4", "reverseMessage follows the rule, byte by byte", (t: MilestoneContext) => {
  for (const { what, msg } of [...EDGE_CASES, { what: "an empty message", msg: Buffer.alloc(0) }, { what: "a long line", msg: Buffer.from(`${"ab".repeat(5000)}\n`) }]) {
    const got = reverseMessage(msg);
    const want = reversed(msg);
    if (!got.equals(want)) t.fail({ problem: `reverseMessage(${what}) is not the message reversed with a final newline kept at the end`, sent: msg, expected: want, got });
    t.same(`reverseMessage(${what}), as hex`, got.toString("hex"), want.toString("hex"));
  }
  const msg = Buffer.from("abc\n");
  reverseMessage(msg);
  t.ensure("reverseMessage leaves the Buffer it was given as it was", msg.toString() === "abc\n", "reverseMessage changed the Buffer it was given; it must return a new one (the caller may still use it)");
});
