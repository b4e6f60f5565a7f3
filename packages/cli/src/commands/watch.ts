// xps watch <stage>: run the stage's tests, then again after every change to
// its files (src/, test/, server.ts, hints.md). Ctrl+C stops.
import fs from "node:fs";
import path from "node:path";
import pc from "picocolors";
import { learnerDir } from "@xps/course/overrides";
import { shown, stageArg } from "../context.ts";
import type { Variant } from "../runner.ts";
import { milestoneIds, testStage } from "./test.ts";

const WATCHED = [/^src\//, /^test\//, /^server\.ts$/, /^hints\.md$/];

/** Does a change to this path (relative to the stage) call for a re-run? */
export function watched(rel: string): boolean {
  const p = rel.split(path.sep).join("/");
  return WATCHED.some((re) => re.test(p)) && !p.includes("node_modules/");
}

export async function watchCommand(stageName: string, opts: { solution?: boolean; milestone?: string[]; clear?: boolean }): Promise<number> {
  const stage = stageArg(stageName);
  const selected = milestoneIds(stage, opts.milestone);
  const variant: Variant = opts.solution ? "solution" : "learner";
  const clear = opts.clear !== false && process.stdout.isTTY;
  let running = false;
  let again: string | null = null;
  let timer: NodeJS.Timeout | null = null;

  const run = async (why: string): Promise<void> => {
    running = true;
    if (clear) process.stdout.write("\x1b[2J\x1b[H");
    console.log(pc.dim(`[${new Date().toLocaleTimeString()}] ${why}`));
    await testStage(stage, variant, selected);
    console.log(pc.dim(`watching ${shown(stage.dir)} (src/, test/, server.ts, hints.md) for changes; Ctrl+C stops`));
    running = false;
    if (again !== null) {
      const next = again;
      again = null;
      await run(next);
    }
  };

  const changed = (why: string): void => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      if (running) again = why;
      else void run(why);
    }, 300);
  };
  // src/ and test/ recursively; the stage folder itself only for its own files
  // (a recursive watch of it would walk node_modules and its links too).
  const watchers: fs.FSWatcher[] = [];
  for (const sub of ["src", "test"]) {
    const dir = path.join(stage.dir, sub);
    if (fs.existsSync(dir)) {
      watchers.push(fs.watch(dir, { recursive: true }, (_event, file) => changed(`${path.join(path.basename(stage.dir), sub, file?.toString() ?? "")} changed`)));
    }
  }
  watchers.push(
    fs.watch(stage.dir, (_event, file) => {
      if (file && watched(file.toString())) changed(`${path.join(path.basename(stage.dir), file.toString())} changed`);
    }),
  );
  // Learner files kept elsewhere (XPS_LEARNER_DIR) are the stage's files too.
  const mine = learnerDir(stage.dir, process.env);
  if (!mine.startsWith(path.join(stage.dir, "src")) && fs.existsSync(mine)) {
    watchers.push(fs.watch(mine, { recursive: true }, (_event, file) => changed(`${path.join(mine, file?.toString() ?? "")} changed`)));
  }
  const stopped = new Promise<void>((resolve) => {
    const stop = (): void => {
      for (const w of watchers) w.close();
      if (timer) clearTimeout(timer);
      resolve();
      setImmediate(() => process.exit(0));
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  await run("first run");
  await stopped;
  return 0;
}
