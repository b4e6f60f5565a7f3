export * from "./checks.ts";
export * from "./client.ts";
export * from "./ports.ts";
export * from "./proc.ts";
export * from "./python.ts";
export * from "./report.ts";
export * from "./server.ts";
export * from "./stage.ts";
