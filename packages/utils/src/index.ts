export * from "./buffer.ts";
export * from "./constants.ts";
export * from "./logger.ts";
export * from "./net.ts";
export * from "./result.ts";
export * from "./slot-list.ts";
export * from "./todo.ts";
