// xps export gradescope --stage N OUT: a Gradescope autograder bundle.
// xps export classroom --stage N OUT: a GitHub Classroom autograding workflow.
//
// The Gradescope bundle is the course (reference included: the tests need
// it, the learner's code never sees it outside the sandbox) and the hidden
// tests, with Gradescope's two scripts: setup.sh builds the image once,
// run_autograder grades the one submission of its container with `xps
// grade` and writes results.json. XPS_AUTOGRADER_ROOT moves /autograder
// (the tests lay out a folder the way Gradescope does).
//
// The Classroom workflow runs in the learner's own repository, so the
// learner controls it; it is feedback, not a grade (docs/instructors.md).
import fs from "node:fs";
import path from "node:path";
import type { StageMeta } from "../context.ts";
import { copyTree } from "./export.ts";

export const PNPM_VERSION = "12.21.0";

const SETUP = `#!/usr/bin/env bash
# Gradescope runs this once, as root, to build the autograder's image.
set -euo pipefail
ROOT="\${XPS_AUTOGRADER_ROOT:-/autograder}"
cd "$ROOT/source/course"
need() { command -v "$1" >/dev/null 2>&1; }
if ! need node || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y ca-certificates curl gnupg
  curl -fsSL https://deb.nodesource.com/setup_20.x | bash -
  DEBIAN_FRONTEND=noninteractive apt-get install -y nodejs
fi
missing=()
need python3 || missing+=(python3)
need curl || missing+=(curl)
need unshare || missing+=(util-linux)
if [ \${#missing[@]} -gt 0 ]; then
  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "\${missing[@]}"
fi
need pnpm || npm install -g pnpm@${PNPM_VERSION}
pnpm install --frozen-lockfile
`;

function runAutograder(stage: StageMeta, runTimeout: number, visibility: string): string {
  return `#!/usr/bin/env bash
# Gradescope runs this in a fresh container for each submission (as root):
# the submission is in $ROOT/submission, results.json goes to $ROOT/results.
set -uo pipefail
ROOT="\${XPS_AUTOGRADER_ROOT:-/autograder}"
SOURCE="$ROOT/source"
mkdir -p "$ROOT/results"
work=$(mktemp -d)
mkdir -p "$work/subs"
ln -s "$ROOT/submission" "$work/subs/submission"
hidden=()
[ -d "$SOURCE/hidden" ] && hidden=(--tests "$SOURCE/hidden")
cd "$SOURCE/course"
pnpm --silent xps grade --stage ${stage.stage} --submissions "$work/subs" "\${hidden[@]}" \\
  --run-timeout ${runTimeout} --hidden-visibility ${visibility} --format gradescope --out "$work/out" > "$work/log" 2>&1
status=$?
if [ -f "$work/out/results.json" ]; then
  cp "$work/out/results.json" "$ROOT/results/results.json"
else
  # No grade: say why, and give 0.
  node -e 'const fs = require("fs"); const log = fs.readFileSync(process.argv[1], "utf8").split("\\n").slice(-20).join("\\n");
    fs.writeFileSync(process.argv[2], JSON.stringify({ score: 0, output: "grading failed (exit " + process.argv[3] + "):\\n" + log, stdout_visibility: "hidden", tests: [] }, null, 2));' \\
    "$work/log" "$ROOT/results/results.json" "$status"
fi
cat "$work/log"
rm -rf "$work"
`;
}

export interface AutograderOptions {
  /** Hidden tests: a folder holding stage-NN/ (as xps grade --tests takes). */
  tests?: string;
  runTimeout: number;
  hiddenVisibility: string;
}

/** Write the Gradescope bundle into `out`: setup.sh, run_autograder, course/, hidden/. */
export function exportGradescope(root: string, stage: StageMeta, out: string, opts: AutograderOptions): { files: number } {
  fs.mkdirSync(out, { recursive: true });
  let files = copyTree(root, path.join(out, "course"), (rel) => rel.startsWith("temp/") || rel === "temp");
  if (opts.tests) {
    for (const name of [stage.name, path.basename(stage.dir), String(stage.stage)]) {
      const from = path.join(opts.tests, name);
      if (fs.existsSync(from)) files += copyTree(from, path.join(out, "hidden", stage.name));
    }
  }
  fs.writeFileSync(path.join(out, "setup.sh"), SETUP, { mode: 0o755 });
  fs.writeFileSync(path.join(out, "run_autograder"), runAutograder(stage, opts.runTimeout, opts.hiddenVisibility), { mode: 0o755 });
  fs.writeFileSync(
    path.join(out, "README.md"),
    `# Gradescope autograder: ${stage.name} ${stage.title}\n\nMade by \`xps export gradescope --stage ${stage.stage}\`. Zip the contents of this folder (\`cd ${path.basename(out)} && zip -r ../autograder.zip .\`) and upload the zip as the assignment's autograder. Gradescope runs \`setup.sh\` once and \`run_autograder\` for each submission, which may be a copy of the learner's repository or of its \`stages/\` folder.\n`,
  );
  return { files: files + 3 };
}

/** One step of the Classroom workflow. */
export interface WorkflowStep {
  name: string;
  id?: string;
  uses?: string;
  run?: string;
  with?: Record<string, string | number>;
  env?: Record<string, string>;
}

/** The steps of the Classroom workflow for a stage: set-up, one graded step per milestone, the reporter. */
export function classroomSteps(stage: StageMeta, timeoutMinutes: number): WorkflowStep[] {
  const ms = stage.milestones ?? [];
  return [
    { name: "Check out the repository", uses: "actions/checkout@v4" },
    { name: "Node 20", uses: "actions/setup-node@v4", with: { "node-version": "20" } },
    { name: "Install", run: `npm install -g pnpm@${PNPM_VERSION} && pnpm install --no-frozen-lockfile` },
    ...ms.map((m) => ({
      name: `${m.id.toUpperCase()} ${m.title}`,
      id: m.id,
      uses: "classroom-resources/autograding-command-grader@v1",
      with: { "test-name": `${m.id.toUpperCase()} ${m.title}`, "setup-command": "", command: `pnpm --silent xps test ${stage.name} -m ${m.id}`, timeout: timeoutMinutes, "max-score": m.points },
    })),
    {
      name: "Autograding Reporter",
      uses: "classroom-resources/autograding-grading-reporter@v1",
      env: Object.fromEntries(ms.map((m) => [`${m.id.toUpperCase()}_RESULTS`, `\${{steps.${m.id}.outputs.result}}`])),
      with: { runners: ms.map((m) => m.id).join(",") },
    },
  ];
}

const q = (v: string | number): string => (typeof v === "number" ? String(v) : JSON.stringify(v));

/** The workflow as YAML; every scalar is quoted, so the file reads back the same (see readWorkflowSteps). */
export function classroomWorkflow(stage: StageMeta, timeoutMinutes = 10): string {
  const lines = [
    `# GitHub Classroom autograding for ${stage.name} ${stage.title} (xps export classroom --stage ${stage.stage}).`,
    "# It runs in the learner's repository, which the learner controls: use it for feedback.",
    `name: ${q("Autograding Tests")}`,
    "on:",
    "  - push",
    "  - repository_dispatch",
    "permissions:",
    `  checks: ${q("write")}`,
    `  actions: ${q("read")}`,
    `  contents: ${q("read")}`,
    "jobs:",
    "  run-autograding-tests:",
    `    runs-on: ${q("ubuntu-latest")}`,
    `    if: ${q("github.actor != 'github-classroom[bot]'")}`,
    "    steps:",
  ];
  for (const s of classroomSteps(stage, timeoutMinutes)) {
    lines.push(`      - name: ${q(s.name)}`);
    for (const key of ["id", "uses", "run"] as const) if (s[key] !== undefined) lines.push(`        ${key}: ${q(s[key]!)}`);
    for (const key of ["with", "env"] as const) {
      if (s[key] === undefined) continue;
      lines.push(`        ${key}:`);
      for (const [k, v] of Object.entries(s[key]!)) lines.push(`          ${k}: ${q(v)}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

/** The steps back from a workflow that classroomWorkflow wrote (for a faithful local run of it). */
export function readWorkflowSteps(text: string): WorkflowStep[] {
  const steps: WorkflowStep[] = [];
  let map: "with" | "env" | null = null;
  const value = (v: string): string | number => (v.startsWith('"') ? (JSON.parse(v) as string) : Number(v));
  for (const line of text.split("\n")) {
    const item = /^ {6}- name: (.*)$/.exec(line);
    if (item) {
      steps.push({ name: String(value(item[1]!)) });
      map = null;
      continue;
    }
    const step = steps.at(-1);
    const field = /^ {8}(id|uses|run|with|env):(?: (.*))?$/.exec(line);
    if (step && field) {
      if (field[1] === "with" || field[1] === "env") {
        map = field[1];
        step[map] = {};
      } else step[field[1] as "id" | "uses" | "run"] = String(value(field[2]!));
      continue;
    }
    const entry = /^ {10}([\w-]+): (.*)$/.exec(line);
    if (step && map && entry) (step[map] as Record<string, string | number>)[entry[1]!] = value(entry[2]!);
  }
  return steps;
}

export function exportClassroom(stage: StageMeta, out: string): string {
  const file = path.join(out, ".github", "workflows", "classroom.yml");
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, classroomWorkflow(stage));
  return file;
}
