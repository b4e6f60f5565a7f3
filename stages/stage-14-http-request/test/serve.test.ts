// Stage 14's black-box milestones (M3 to M7): the server, on free ports,
// serving the course's public/ (or a folder of the test's own) to raw TCP
// clients, Node's fetch and curl. The checks themselves are in serving.ts,
// which stage 15 runs too.
import path from "node:path";
import { defineStage } from "@xps/testkit";
import { defineServingChecks } from "./serving.ts";

const stage = defineStage(path.join(import.meta.dirname, ".."));

defineServingChecks(stage, { files: "m3", refusals: "m4", malformed: "m5", limits: "m6", early: "m7" });
