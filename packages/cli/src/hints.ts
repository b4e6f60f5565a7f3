// A stage's hints.md: "## h1 <title>" sections, each with "### Level N"
// parts, revealed one level at a time (what was shown is remembered in
// <repo root>/.xps/hints.json).
import fs from "node:fs";
import path from "node:path";
import type { StageMeta } from "./context.ts";

export interface HintLevel {
  title: string;
  body: string;
}

export interface HintSection {
  id: string;
  title: string;
  intro: string;
  levels: HintLevel[];
}

export function parseHints(text: string): HintSection[] {
  const out: HintSection[] = [];
  let section: HintSection | null = null;
  let level: HintLevel | null = null;
  let intro: string[] = [];
  let body: string[] = [];
  const close = (): void => {
    if (level) level.body = trimBlank(body).join("\n");
    else if (section) section.intro = trimBlank(intro).join("\n");
    body = [];
  };
  let fence = false;
  for (const line of text.split("\n")) {
    if (/^(```|~~~)/.test(line)) fence = !fence;
    const h2 = fence ? null : /^## (h\d+)\b\s*(.*)$/.exec(line);
    const h3 = fence ? null : /^### (.+)$/.exec(line);
    if (h2) {
      close();
      section = { id: h2[1]!, title: h2[2]!.trim(), intro: "", levels: [] };
      out.push(section);
      level = null;
      intro = [];
    } else if (/^## /.test(line) && !fence) {
      close();
      section = null;
      level = null;
    } else if (h3 && section) {
      close();
      if (!level) section.intro = trimBlank(intro).join("\n");
      level = { title: h3[1]!.trim(), body: "" };
      section.levels.push(level);
    } else if (level) body.push(line);
    else if (section) intro.push(line);
  }
  close();
  return out;
}

function trimBlank(lines: string[]): string[] {
  let a = 0;
  let b = lines.length;
  while (a < b && lines[a]!.trim() === "") a++;
  while (b > a && lines[b - 1]!.trim() === "") b--;
  return lines.slice(a, b);
}

export function stageHints(stage: StageMeta): HintSection[] {
  const file = path.join(stage.dir, "hints.md");
  return fs.existsSync(file) ? parseHints(fs.readFileSync(file, "utf8")) : [];
}

type Seen = Record<string, Record<string, number>>;

function seenFile(root: string): string {
  return path.join(root, ".xps", "hints.json");
}

export function readSeen(root: string): Seen {
  try {
    return JSON.parse(fs.readFileSync(seenFile(root), "utf8")) as Seen;
  } catch {
    return {};
  }
}

export function writeSeen(root: string, seen: Seen): void {
  fs.mkdirSync(path.dirname(seenFile(root)), { recursive: true });
  fs.writeFileSync(seenFile(root), `${JSON.stringify(seen, null, 2)}\n`);
}
