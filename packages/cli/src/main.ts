// The xps command (`pnpm xps ...`): the learner loop and instructor grading.
//
// commander parses the arguments (every subcommand has --help); a wrong
// argument is one line on stderr that says how to fix it, and exit code 2.
// Exit code 1 means the command ran and something failed (a milestone, a
// leak); 0 means all is well.
import { Argument, Command, CommanderError, Option } from "commander";
import pc from "picocolors";
import { CommandError, UsageError } from "./context.ts";
import { scriptArgs } from "@xps/utils/args";

const program = new Command();

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(",").filter((v) => v !== "")];
}

program
  .name("xps")
  .usage("<command> [options]")
  .description("eXpServer's course tool: test your stages, read hints, run your server; grade and export for instructors.")
  .showSuggestionAfterError(true)
  .helpCommand(false)
  .addHelpText(
    "after",
    `
The learner loop:
  pnpm xps status                  where you are, and what to do next
  pnpm xps test stage-10           your code against the milestones
  pnpm xps hint stage-10 h1        the hint a failure names, one level at a time
  pnpm xps run stage-10            your server on ports 8001-8004

Instructors: pnpm xps grade --help, pnpm xps export --help`,
  );

program
  .command("status")
  .description("one row per stage: milestones passed (from the last run), points, what to do next")
  .option("--json", "print the same as JSON")
  .action(async (opts: { json?: boolean }) => {
    const { statusCommand } = await import("./commands/status.ts");
    done(statusCommand(opts));
  });

program
  .command("test")
  .description("run a stage's milestones against your code (the same as pnpm test --filter stage-NN) and show each failure's transcript")
  .argument("<stage>", 'the stage: "stage-10", "10" or its folder name')
  .option("--solution", "run the reference solution instead of your code")
  .option("--previous", "also re-run the earlier stages this one builds on, first")
  .option("--own", "use your own solved files of earlier stages where this stage uses their modules unchanged (the stage guide lists them)")
  .option("-m, --milestone <id>", 'only this milestone ("m3"; repeat or use commas for more)', collect)
  .action(async (stage: string, opts) => {
    const { testCommand } = await import("./commands/test.ts");
    done(await testCommand(stage, opts));
  });

program
  .command("watch")
  .description("run a stage's tests, then again whenever its files (src/, test/, server.ts) change")
  .argument("<stage>", 'the stage: "stage-10", "10" or its folder name')
  .option("--solution", "run the reference solution instead of your code")
  .option("-m, --milestone <id>", "only this milestone (repeat for more)", collect)
  .option("--no-clear", "do not clear the terminal before each run")
  .action(async (stage: string, opts) => {
    const { watchCommand } = await import("./commands/watch.ts");
    done(await watchCommand(stage, opts));
  });

program
  .command("hint")
  .description("show a stage's hints from its hints.md, one level at a time (the next level each time you ask)")
  .argument("<stage>", 'the stage: "stage-10", "10" or its folder name')
  .argument("[n]", 'the hint ("h1" or "1") or a milestone ("m3"); default: the first failing milestone\'s')
  .option("--level <n>", "show this level (and remember it as read)")
  .option("--list", "list the stage's hints and how many levels you have read")
  .option("--reset", "start this hint again from Level 1")
  .action(async (stage: string, n: string | undefined, opts) => {
    const { hintCommand } = await import("./commands/hint.ts");
    done(hintCommand(stage, n, opts));
  });

program
  .command("run")
  .description("start a stage's server with your code (Ctrl+C stops it); stage 11 also starts its upstream when none is listening")
  .argument("<stage>", 'the stage: "stage-10", "10" or its folder name')
  .option("--solution", "run the reference solution instead of your code")
  .option("--ports <a,b,c,d>", "the four ports (default 8001,8002,8003,8004)")
  .option("--host <host>", "the address to listen on (default 127.0.0.1)")
  .option("--upstream <host:port>", "where the proxy port forwards to (stage 11 on; default 127.0.0.1:3000)")
  .option("--dir <folder>", "what the upstream python3 -m http.server serves when xps starts it (default: docs/)")
  .option("--no-upstream-start", "never start an upstream, even when none is listening")
  .action(async (stage: string, opts) => {
    const { runCommand } = await import("./commands/run.ts");
    done(await runCommand(stage, opts));
  });

program
  .command("reset")
  .description("restore the pristine skeleton of a stage's files (asks first; keeps a backup of yours in the stage's .xps/backups/)")
  .argument("<stage>", 'the stage: "stage-10", "10" or its folder name')
  .argument("[file]", 'only this file ("pipe.ts" or "src/pipe.ts")')
  .option("-y, --yes", "do not ask")
  .action(async (stage: string, file: string | undefined, opts) => {
    const { resetCommand } = await import("./commands/reset.ts");
    done(await resetCommand(stage, file, opts));
  });

program
  .command("diff")
  .description("compare your files with the reference solution (offered once all of the stage's milestones pass), or, with --stages A B, what the solution changes from stage A to stage B")
  .argument("[stage]", 'the stage: "stage-10", "10" or its folder name')
  .option("--stages <a b...>", "the solution's changes from stage A to stage B, file by file (e.g. --stages 9 10)")
  .option("--file <name>", 'with --stages: only this file ("connection.ts")')
  .option("--color", "colour the diff even when not on a terminal")
  .action(async (stage: string | undefined, opts) => {
    const { diffCommand, stagesDiffCommand } = await import("./commands/diff.ts");
    done(opts.stages ? stagesDiffCommand(opts.stages, stage, opts) : diffCommand(stage, opts));
  });

program
  .command("view")
  .description("print a module as the server has it at a stage (the stage's view, solution in place), or list the view's modules")
  .argument("<stage>", 'the stage: "stage-08", "8" or its folder name')
  .argument("[module]", 'a file name ("connection.ts") or path ("packages/connection/src/connection.ts"); without it, the list')
  .action(async (stage: string, module: string | undefined) => {
    const { viewCommand } = await import("./commands/diff.ts");
    done(viewCommand(stage, module));
  });

program
  .command("grade")
  .description("grade the current checkout, or every submission under a folder, with the course's pristine tests (instructors)")
  .option("--stage <n...>", 'grade only these stages ("10", "stage-11"; default: all)')
  .option("--submissions <dir>", "grade every folder under DIR (each a copy of a learner's repository, or only its stages/)")
  .option("--tests <dir>", "add the hidden tests under DIR (DIR/stage-NN/*.test.ts and DIR/stage-NN/hidden.json)")
  .addOption(new Option("--format <f...>", "output formats (repeatable)").choices(["table", "json", "gradescope", "junit", "csv"]))
  .option("--out <dir>", "where the json, gradescope, junit and csv files go (default: .xps/grades)")
  .option("--milestone-timeout <s>", "time limit of every milestone test, in seconds (default: each test's own, 60 s or 30 s)")
  .option("--run-timeout <s>", "time limit of one submission's whole run of one stage, in seconds; what has not finished by then scores 0", "600")
  .option("--sandbox <kind>", "how learner code is isolated: auto (the strongest here), bubblewrap, namespaces (root), none (limits and Node's permission model only), off", "auto")
  .option("--hidden-visibility <v>", "Gradescope visibility of hidden milestones: visible, hidden, after_due_date, after_published", "after_published")
  .option("-m, --milestone <id>", 'grade only this milestone ("m1"; repeat or use commas for more); the others are left out of the score', collect)
  .option("-q, --quiet", "no progress lines")
  .action(async (opts) => {
    const { gradeCommand } = await import("./grade/command.ts");
    done(await gradeCommand(opts));
  });

program
  .command("export")
  .description("write a learner distribution of the course (student), a Gradescope autograder bundle (gradescope) or a GitHub Classroom workflow (classroom) (instructors)")
  .addArgument(new Argument("<kind>", "what to export").choices(["student", "gradescope", "classroom"]))
  .argument("<out>", "the folder to write (must not exist, or be empty)")
  .option("--through <n>", "student: the last stage to release (its solution, and every later one, stays out)")
  .option("--stage <n>", "gradescope, classroom: the stage the assignment grades")
  .option("--tests <dir>", "gradescope: the hidden tests to bundle (DIR/stage-NN/, as xps grade --tests takes)")
  .option("--run-timeout <s>", "gradescope: time limit of the submission's whole run, in seconds", "600")
  .option("--hidden-visibility <v>", "gradescope: visibility of hidden milestones (visible, hidden, after_due_date, after_published)", "after_published")
  .option("--force", "write into OUT even when it is not empty (its old contents are removed)")
  .option("--install", "student: then run pnpm install and pnpm test --filter stage-N in OUT (needs the npm registry)")
  .action(async (kind: string, out: string, opts) => {
    const { exportCommand } = await import("./export/command.ts");
    done(await exportCommand(kind, out, opts));
  });

let exitCode = 0;
function done(code: number): void {
  exitCode = code;
}

function commandName(argv: string[]): string {
  const name = argv.find((a) => !a.startsWith("-"));
  return name && program.commands.some((c) => c.name() === name) ? `xps ${name}` : "xps";
}

function usageLine(where: string, message: string, fix: string): void {
  process.stderr.write(`${pc.red(`${where}:`)} ${message}${fix ? `; ${fix}` : ""}\n`);
}

// `pnpm xps diff 10 | head` closes our stdout early: that is not an error.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(0);
  throw err;
});

const argv = scriptArgs();
const where = commandName(argv);
for (const c of [program, ...program.commands]) {
  c.exitOverride();
  c.configureOutput({ outputError: () => {} });
}
try {
  if (argv.length === 0) throw new UsageError("name a command", "see pnpm xps --help");
  await program.parseAsync(argv, { from: "user" });
  process.exitCode = exitCode;
} catch (err) {
  if (err instanceof CommanderError) {
    if (err.code === "commander.helpDisplayed" || err.code === "commander.version" || err.exitCode === 0) process.exit(0);
    const message = err.message.replace(/^error: /, "").replace(/\s*\n\s*/g, " ").replace(/\.$/, "");
    usageLine(where, message, `see pnpm ${where} --help`);
    process.exit(2);
  }
  if (err instanceof UsageError) {
    usageLine(where, err.message, err.fix || `see pnpm ${where} --help`);
    process.exit(2);
  }
  if (err instanceof CommandError) {
    process.stderr.write(`${pc.red(`${where}:`)} ${err.message}\n`);
    process.exit(err.code);
  }
  throw err;
}
