// Stage 15's black-box milestones (M3 to M7): the same checks as stage 14's
// (the tester's tests are the same for both stages), and every reply must
// now carry the response module's standard headers too: Date in
// IMF-fixdate, Server and Access-Control-Allow-Origin.
import path from "node:path";
import { defineStage } from "@xps/testkit";
import { defineServingChecks } from "../../stage-14-http-request/test/serving.ts";

const stage = defineStage(path.join(import.meta.dirname, ".."));

defineServingChecks(stage, { files: "m3", refusals: "m4", malformed: "m5", limits: "m6", early: "m7" }, { date: true });
