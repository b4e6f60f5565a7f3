// The schema files the course ships for editors ($schema in a config) are
// the schema the server checks with: stage 16's without the IP lists (they
// come with stage 18), stage 18's whole.
import fs from "node:fs";
import path from "node:path";
import { expect, test } from "vitest";
import { CONFIG_SCHEMA } from "../src/config-schema.ts";

const STAGES = path.resolve(import.meta.dirname, "..", "..", "..", "stages");

function shipped(folder: string): unknown {
  return JSON.parse(fs.readFileSync(path.join(STAGES, folder, "xps_config.schema.json"), "utf8"));
}

test("stage 16's xps_config.schema.json is config-schema.ts without the IP lists", () => {
  const want = structuredClone(CONFIG_SCHEMA) as { properties: { servers: { items: { properties: { routes: { items: { properties: Record<string, unknown> } } } } } } };
  const route = want.properties.servers.items.properties.routes.items.properties;
  delete route.ip_whitelist;
  delete route.ip_blacklist;
  expect(shipped("stage-16-config")).toEqual(want);
});

test.runIf(fs.existsSync(path.join(STAGES, "stage-18-ip-lists", "xps_config.schema.json")))("stage 18's xps_config.schema.json is config-schema.ts", () => {
  expect(shipped("stage-18-ip-lists")).toEqual(JSON.parse(JSON.stringify(CONFIG_SCHEMA)));
});
