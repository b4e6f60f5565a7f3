// What a skeleton's unfinished TODO throws. The course's generator turns each
// marked solution region into `throw todo("stage-10", 4, "...")`; the loop
// catches the error, logs which TODO was reached, and closes only the
// connection that hit it, so the rest of the server keeps running.

export class TodoError extends Error {
  readonly stage: string;
  readonly todo: number;
  readonly task: string;

  constructor(stage: string, todo: number, task: string) {
    super(`${stage} TODO ${todo} is not done yet: ${task}`);
    this.name = "TodoError";
    this.stage = stage;
    this.todo = todo;
    this.task = task;
  }
}

export function todo(stage: string, n: number, task: string): never {
  throw new TodoError(stage, n, task);
}

/** One line describing an error thrown by a handler, for the server log. */
export function describeError(err: unknown): string {
  if (err instanceof TodoError) {
    return `${err.message} (see the TODO list in the ${err.stage} guide)`;
  }
  if (err instanceof Error) {
    const frame = err.stack?.split("\n").find((l) => l.trim().startsWith("at "));
    return `${err.name}: ${err.message}${frame ? ` (${frame.trim()})` : ""}`;
  }
  return `thrown value: ${String(err)}`;
}
