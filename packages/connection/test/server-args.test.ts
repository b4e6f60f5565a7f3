// The command line of a stage's server (parseServerArgs) and the words of its
// start-up lines, without starting anything.
import { describe, expect, test } from "vitest";
import { DEFAULT_UPSTREAM, UsageError, exposureWarning, parseServerArgs, type StageServerSpec } from "../src/options.ts";
import { upstreamConnectError } from "../src/upstream.ts";

const STAGE_11: StageServerSpec = {
  stage: "stage-11",
  title: "the upstream module",
  portRoles: ["reverse proxy to the upstream", "echo", "echo", "echo"],
  upstream: true,
};
const STAGE_10: StageServerSpec = { stage: "stage-10", title: "pipes", portRoles: ["echo", "echo", "echo", "echo"] };

function usageError(argv: string[], env: NodeJS.ProcessEnv = {}, spec = STAGE_11): string {
  try {
    parseServerArgs(argv, env, spec);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error(`parseServerArgs(${JSON.stringify(argv)}) accepted it`);
}

describe("parseServerArgs --upstream", () => {
  test("HOST:PORT, [v6]:PORT and the default", () => {
    expect(parseServerArgs(["--upstream", "localhost:8080"], {}, STAGE_11)).toMatchObject({ upstream: { host: "localhost", port: 8080 } });
    expect(parseServerArgs(["--upstream", "[::1]:3000"], {}, STAGE_11)).toMatchObject({ upstream: { host: "::1", port: 3000 } });
    expect(parseServerArgs([], {}, STAGE_11)).toMatchObject({ upstream: DEFAULT_UPSTREAM, host: "127.0.0.1" });
  });

  test("a bare port stays accepted and means 127.0.0.1", () => {
    expect(parseServerArgs(["--upstream", "3001"], {}, STAGE_11)).toMatchObject({ upstream: { host: "127.0.0.1", port: 3001 } });
  });

  test("an empty host before the colon is a usage error that says what to write", () => {
    const msg = usageError(["--upstream", ":80"]);
    expect(msg).toBe('--upstream ":80" has no host before the colon; write one, like 127.0.0.1:80 for this machine');
    expect(usageError([], { XPS_UPSTREAM: "[]:3000" })).toMatch(/no host before the colon; write one, like 127\.0\.0\.1:3000/);
  });

  test("port 0 is refused, for --upstream and --ports", () => {
    expect(usageError(["--upstream", "127.0.0.1:0"])).toMatch(/--upstream wants HOST:PORT with a port from 1 to 65535 .*got "127\.0\.0\.1:0"/);
    expect(usageError(["--ports", "0,8002,8003,8004"], {}, STAGE_10)).toMatch(/--ports wants 4 different ports from 1 to 65535/);
  });
});

describe("start-up lines", () => {
  test("no warning when every listener is on loopback", () => {
    expect(exposureWarning(["127.0.0.1", "127.0.0.1"], [8001, 8002], STAGE_10, DEFAULT_UPSTREAM)).toBeNull();
    expect(exposureWarning(["::1"], [8001], STAGE_10, DEFAULT_UPSTREAM)).toBeNull();
  });

  test("a listener beyond loopback: what is exposed, and how to go back", () => {
    const w = exposureWarning(["0.0.0.0", "0.0.0.0", "0.0.0.0", "0.0.0.0"], [8001, 8002, 8003, 8004], STAGE_11, { host: "127.0.0.1", port: 3000 });
    expect(w).toBe(
      "listening on 0.0.0.0 (every network interface of this machine): other machines can connect to ports " +
        "8001 (reverse proxy to the upstream), 8002 (echo), 8003 (echo) and 8004 (echo), and the proxy hands them " +
        "whatever the upstream 127.0.0.1:3000 serves (python3 -m http.server serves every file under the folder it was started in); " +
        "to listen on this machine only, use --host 127.0.0.1 (the default)",
    );
    const echoOnly = exposureWarning(["192.168.1.5"], [9001], STAGE_10);
    expect(echoOnly).toMatch(/^listening on 192\.168\.1\.5 \(an address other machines can reach\): other machines can connect to ports 9001 \(echo\); to listen on this machine only, use --host 127\.0\.0\.1/);
    expect(echoOnly).not.toMatch(/proxy/);
  });

  test("a failed connect to the upstream says which failure it was", () => {
    const err = (code: string): NodeJS.ErrnoException => Object.assign(new Error(code), { code });
    expect(upstreamConnectError("127.0.0.1", 3000, err("ECONNREFUSED"))).toBe(
      "nothing is listening on 127.0.0.1:3000 (ECONNREFUSED); is an upstream running there? Start one with: python3 -m http.server 3000 --bind 127.0.0.1",
    );
    for (const code of ["ENOTFOUND", "EAI_AGAIN"]) {
      const msg = upstreamConnectError("nosuchhost", 1, err(code));
      expect(msg).toMatch(new RegExp(`^the upstream host name "nosuchhost" could not be resolved \\(${code}.*\\); give --upstream an address such as 127\\.0\\.0\\.1:3000$`));
      expect(msg).not.toMatch(/nothing is listening|python3/);
    }
    expect(upstreamConnectError("127.0.0.1", 3000, err("ECONNRESET"))).toMatch(/^upstream 127\.0\.0\.1:3000 accepted the connection, then reset it before sending anything \(ECONNRESET\)/);
    expect(upstreamConnectError("::1", 3000, err("EHOSTUNREACH"))).toMatch(/^upstream \[::1\]:3000 cannot be reached \(EHOSTUNREACH\)/);
  });
});
