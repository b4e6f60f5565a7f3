// Before a submission's learner files run: do they compile, and do they
// import only what grading gives them? A syntax error is reported as
// file:line:col with a code frame, the way a compiler shows it; an import of
// a file of the learner's own (grading copies only the taught files) says so.
import path from "node:path";
import ts from "typescript";

export interface Problem {
  file: string;
  message: string;
}

/** "src/pipe.ts:12:5: error: ';' expected" and the lines around it, with a caret. */
export function codeFrame(name: string, text: string, start: number, message: string): string {
  const before = text.slice(0, start);
  const line = before.split("\n").length;
  const col = start - before.lastIndexOf("\n");
  const lines = text.split("\n");
  const frame: string[] = [`${name}:${line}:${col}: error: ${message}`];
  for (let n = Math.max(1, line - 2); n <= Math.min(lines.length, line + 1); n++) {
    frame.push(`  ${n === line ? ">" : " "} ${String(n).padStart(4)} | ${lines[n - 1]!.slice(0, 160)}`);
    if (n === line) frame.push(`         | ${" ".repeat(Math.max(0, col - 1))}^`);
  }
  return frame.join("\n");
}

/** Syntax errors of one TypeScript file, each as a code frame. */
export function syntaxErrors(name: string, text: string): string[] {
  const out = ts.transpileModule(text, { fileName: name, reportDiagnostics: true, compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
  return (out.diagnostics ?? [])
    .filter((d) => d.category === ts.DiagnosticCategory.Error)
    .slice(0, 5)
    .map((d) => codeFrame(name, text, d.start ?? 0, ts.flattenDiagnosticMessageText(d.messageText, "\n")));
}

/** Relative imports of a file (import ... from "./x", import("./x"), export ... from "./x"). */
export function relativeImports(text: string): string[] {
  const out = new Set<string>();
  const re = /(?:\bfrom\s*|\bimport\s*\(?\s*)["'](\.{1,2}\/[^"']+)["']/g;
  for (const m of text.matchAll(re)) out.add(m[1]!);
  return [...out];
}

/**
 * The learner files of a stage, by name ("pipe.ts") with their text: what
 * keeps them from running as graded. `taught` are the file names grading
 * copies.
 */
export function precheck(files: Map<string, string>, taught: string[]): Problem[] {
  const problems: Problem[] = [];
  for (const [name, text] of files) {
    const shown = `src/${name}`;
    const errors = syntaxErrors(shown, text);
    if (errors.length > 0) {
      problems.push({ file: shown, message: `${shown} does not compile:\n${errors.join("\n")}` });
      continue;
    }
    for (const spec of relativeImports(text)) {
      const target = path.posix.normalize(spec);
      if (taught.includes(target.replace(/^\.\//, ""))) continue;
      problems.push({
        file: shown,
        message: `${shown} imports ${spec}, which grading does not have: only the files this stage teaches (${taught.map((t) => `src/${t}`).join(", ")}) are graded, so put that code in one of them`,
      });
    }
  }
  return problems;
}
