import { afterEach, describe, expect, test } from "vitest";
import {
  BufferList,
  E_FAIL,
  OK,
  SlotList,
  TodoError,
  XpsBuffer,
  describeError,
  formatLogLine,
  isLoopback,
  isNameError,
  isValidPort,
  logger,
  readLogSettings,
  parseHostPort,
  setLogSink,
  todo,
} from "../src/index.ts";

describe("BufferList", () => {
  test("append keeps chunks as they are and counts bytes", () => {
    const list = new BufferList();
    const a = Buffer.from("abc");
    list.append(a);
    list.append(Buffer.alloc(0));
    list.append(XpsBuffer.from("defg"));
    expect(list.len).toBe(7);
    expect(list.count).toBe(2);
    expect(list.first()).toBe(a);
  });

  test("a prefix inside the first chunk is a view, a prefix across chunks is a copy", () => {
    const list = new BufferList();
    const a = Buffer.from("hello ");
    list.append(a);
    list.append(Buffer.from("world"));
    const view = list.read(4)!;
    expect(view.toString()).toBe("hell");
    expect(view.buffer).toBe(a.buffer);
    expect(list.read(11)!.toString()).toBe("hello world");
    expect(list.read(12)).toBeNull();
    expect(() => list.read(0)).toThrow(RangeError);
    expect(list.len).toBe(11);
  });

  test("clear drops a prefix by moving an offset, and refuses more than it holds", () => {
    const list = new BufferList();
    list.append(Buffer.from("abc"));
    list.append(Buffer.from("def"));
    expect(list.clear(0)).toBe(OK);
    expect(list.clear(2)).toBe(OK);
    expect(list.first()!.toString()).toBe("c");
    expect(list.read(3)!.toString()).toBe("cde");
    expect(list.clear(5)).toBe(E_FAIL);
    expect(list.clear(4)).toBe(OK);
    expect(list.len).toBe(0);
    expect(list.first()).toBeNull();
    expect(list.count).toBe(0);
  });

  test("many small chunks cleared one by one stay compact", () => {
    const list = new BufferList();
    for (let i = 0; i < 1000; i++) list.append(Buffer.from([i & 0xff]));
    for (let i = 0; i < 999; i++) {
      expect(list.first()![0]).toBe(i & 0xff);
      expect(list.clear(1)).toBe(OK);
    }
    expect(list.count).toBe(1);
    expect(list.read(1)![0]).toBe(999 & 0xff);
  });
});

describe("XpsBuffer", () => {
  test("create, from and duplicate follow xps_buffer", () => {
    const b = XpsBuffer.create(16);
    expect(b.size).toBe(16);
    expect(b.len).toBe(0);
    const c = XpsBuffer.from("hi");
    c.pos = 1;
    const d = c.duplicate();
    expect(d.bytes().toString()).toBe("hi");
    expect(d.pos).toBe(1);
    expect(d.data).not.toBe(c.data);
    expect(() => XpsBuffer.create(0)).toThrow();
  });
});

describe("SlotList", () => {
  test("remove leaves a null slot until more than the threshold are empty", () => {
    const list = new SlotList<{ n: number }>();
    const items = Array.from({ length: 40 }, (_, n) => ({ n }));
    items.forEach((i) => list.add(i));
    for (let i = 0; i < 32; i++) expect(list.remove(items[i]!)).toBe(true);
    expect(list.remove(items[0]!)).toBe(false);
    expect(list.size).toBe(8);
    list.compact();
    expect(list.items.length).toBe(40); // 32 nulls: not above the threshold yet
    list.remove(items[32]!);
    list.compact();
    expect(list.items).toEqual(items.slice(33));
    expect(list.nNull).toBe(0);
  });
});

describe("addresses", () => {
  test("parseHostPort", () => {
    expect(parseHostPort("127.0.0.1:3000")).toEqual({ host: "127.0.0.1", port: 3000 });
    expect(parseHostPort("3000")).toEqual({ host: "127.0.0.1", port: 3000 });
    expect(parseHostPort("localhost:8080")).toEqual({ host: "localhost", port: 8080 });
    expect(parseHostPort("[::1]:80")).toEqual({ host: "::1", port: 80 });
    expect(parseHostPort("host:99999")).toBeNull();
    expect(parseHostPort("host:")).toBeNull();
    expect(parseHostPort("nonsense")).toBeNull();
  });

  test("parseHostPort: an empty host before the colon is not an address; a bare port means 127.0.0.1", () => {
    expect(parseHostPort(":80")).toBeNull();
    expect(parseHostPort(" :80 ")).toBeNull();
    expect(parseHostPort("[]:80")).toBeNull();
    expect(parseHostPort("80")).toEqual({ host: "127.0.0.1", port: 80 });
    expect(parseHostPort("80", "::1")).toEqual({ host: "::1", port: 80 });
  });

  test("isValidPort and parseHostPort take ports from 1 to 65535, not 0", () => {
    expect(isValidPort(0)).toBe(false);
    expect(isValidPort(1)).toBe(true);
    expect(isValidPort(65535)).toBe(true);
    expect(isValidPort(65536)).toBe(false);
    expect(isValidPort(-1)).toBe(false);
    expect(isValidPort(80.5)).toBe(false);
    expect(parseHostPort("127.0.0.1:0")).toBeNull();
    expect(parseHostPort("0")).toBeNull();
    expect(parseHostPort("127.0.0.1:65535")).toEqual({ host: "127.0.0.1", port: 65535 });
  });

  test("isLoopback: 127.0.0.0/8 and ::1 only", () => {
    for (const a of ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"]) expect(isLoopback(a), a).toBe(true);
    for (const a of ["0.0.0.0", "::", "10.0.0.1", "192.168.1.5", "fd00::2", "localhost", ""]) expect(isLoopback(a), a).toBe(false);
  });

  test("isNameError: the codes of a name that did not resolve", () => {
    expect(isNameError("ENOTFOUND")).toBe(true);
    expect(isNameError("EAI_AGAIN")).toBe(true);
    expect(isNameError("ECONNREFUSED")).toBe(false);
    expect(isNameError(undefined)).toBe(false);
  });
});

describe("logger and todo", () => {
  const lines: string[] = [];
  const restore = setLogSink((l) => lines.push(l));
  afterEach(() => {
    lines.length = 0;
    delete process.env.XPS_DEBUG;
    delete process.env.XPS_LOG;
    readLogSettings();
  });

  test("a line is [LEVEL] where : message, DEBUG only with XPS_DEBUG=1", () => {
    logger("INFO", "main()", "Server listening on port 8001");
    logger("DEBUG", "main()", "hidden");
    process.env.XPS_DEBUG = "1";
    readLogSettings();
    logger("DEBUG", "main()", "shown");
    expect(lines).toEqual(["[INFO] main() : Server listening on port 8001", "[DEBUG] main() : shown"]);
    expect(formatLogLine("ERROR", "f()", "x")).toBe("[ERROR] f() : x");
  });

  test("XPS_LOG=quiet keeps warnings and errors only", () => {
    process.env.XPS_LOG = "quiet";
    readLogSettings();
    logger("INFO", "a()", "no");
    logger("WARNING", "a()", "yes");
    expect(lines).toEqual(["[WARNING] a() : yes"]);
  });

  test("todo throws a TodoError that names the stage and the TODO", () => {
    try {
      todo("stage-10", 3, "Create a pipe");
    } catch (err) {
      expect(err).toBeInstanceOf(TodoError);
      expect(describeError(err)).toContain("stage-10 TODO 3 is not done yet: Create a pipe");
    }
    expect(() => todo("stage-10", 3, "x")).toThrow(TodoError);
    setLogSink(restore);
  });
});
