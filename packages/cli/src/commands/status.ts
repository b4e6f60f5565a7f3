// xps status: one row per stage, from the last recorded runs.
import pc from "picocolors";
import { repoRoot, stages, type StageMeta } from "../context.ts";
import { ago, progressOf, type Progress } from "../results.ts";
import { table } from "../table.ts";

export function nextStep(stage: StageMeta, p: Progress, earlierUnfinished: StageMeta | null): string {
  if (p.results === null) {
    return earlierUnfinished ? `after ${earlierUnfinished.name}: pnpm xps test ${stage.name}` : `start: pnpm xps test ${stage.name}`;
  }
  if (p.stale) return `your files changed since: pnpm xps test ${stage.name}`;
  const firstFailed = (stage.milestones ?? []).find((m) => p.failed.includes(m.id));
  if (firstFailed) {
    return `${firstFailed.id.toUpperCase()} ${firstFailed.title}: pnpm xps test ${stage.name} -m ${firstFailed.id}${firstFailed.hint ? `, pnpm xps hint ${stage.name} ${firstFailed.hint}` : ""}`;
  }
  if (p.notRun.length > 0) return `${p.notRun.map((m) => m.toUpperCase()).join(", ")} not run yet: pnpm xps test ${stage.name}`;
  return `done; compare with the reference: pnpm xps diff ${stage.name}`;
}

export function statusRows(root: string = repoRoot): { stage: StageMeta; progress: Progress; next: string }[] {
  const out: { stage: StageMeta; progress: Progress; next: string }[] = [];
  let unfinished: StageMeta | null = null;
  for (const stage of stages(root)) {
    const progress = progressOf(stage, root);
    out.push({ stage, progress, next: nextStep(stage, progress, unfinished) });
    const total = stage.milestones?.length ?? 0;
    if (unfinished === null && progress.passed.length < total) unfinished = stage;
  }
  return out;
}

export function statusCommand(opts: { json?: boolean }): number {
  const rows = statusRows();
  if (opts.json) {
    const data = rows.map((r) => ({
      stage: r.stage.name,
      title: r.stage.title,
      passed: r.progress.passed.length,
      total: r.stage.milestones?.length ?? 0,
      points: r.progress.earned,
      maxPoints: r.progress.max,
      lastRun: r.progress.results?.updatedAt ?? null,
      milestones: Object.fromEntries((r.stage.milestones ?? []).map((m) => [m.id, r.progress.results?.milestones[m.id]?.status ?? "not run"])),
      next: r.next,
    }));
    console.log(JSON.stringify(data, null, 2));
    return 0;
  }
  const body = rows.map(({ stage, progress: p, next }) => {
    const total = stage.milestones?.length ?? 0;
    const count = `${p.passed.length} of ${total}`;
    return [
      stage.name,
      stage.title,
      p.passed.length === total && total > 0 ? pc.green(count) : count,
      `${p.earned}/${p.max}`,
      p.results ? `${ago(p.results.updatedAt)}${p.stale ? pc.yellow(" (files changed)") : ""}` : pc.dim("not run yet"),
      next,
    ];
  });
  console.log(table(["stage", "title", "milestones", "points", "last run", "next"], body));
  return 0;
}
