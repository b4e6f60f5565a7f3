// The command-line options of stage 2's three programs (given): --port N
// (--ports N works too), --host H, and one positional argument that is
// ignored, as the official tester passes a configuration path.
import { parseArgs } from "node:util";
import { scriptArgs } from "@xps/utils/args";
import { describeError } from "@xps/utils/todo";

export interface CommonOptions {
  host: string;
  port: number;
}

/**
 * A TODO that is still a stub throws a TodoError. Say which one, and exit
 * with code 2, so that a crash is never mistaken for the exit code 1 of a
 * failed connect.
 */
export function reportStubs(): void {
  const report = (err: unknown): void => {
    console.log(`[ERROR] ${describeError(err)}`);
    process.exit(2);
  };
  process.on("uncaughtException", report);
  process.on("unhandledRejection", report);
}

/** Parse the options; `extra` are the program's own (strings, or booleans with `flag`). */
export function readOptions<K extends string>(
  usage: string,
  extra: Partial<Record<K, { type: "string" | "boolean" }>> = {},
): CommonOptions & { values: Partial<Record<K, string | boolean>> } {
  const fail = (message: string): never => {
    console.error(`error: ${message}\n${usage}`);
    process.exit(2);
  };
  let values: Record<string, string | boolean | undefined> = {};
  try {
    ({ values } = parseArgs({
      args: scriptArgs(),
      options: { port: { type: "string" }, ports: { type: "string" }, host: { type: "string" }, help: { type: "boolean", short: "h" }, ...extra },
      allowPositionals: true,
    }) as { values: Record<string, string | boolean | undefined> });
  } catch (err) {
    fail((err as Error).message);
  }
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const portText = (values.port as string | undefined) ?? (values.ports as string | undefined)?.split(",")[0] ?? "8080";
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`--port wants a port number from 1 to 65535, not "${portText}"`);
  return { host: (values.host as string | undefined) ?? "127.0.0.1", port, values: values as Partial<Record<K, string | boolean>> };
}
