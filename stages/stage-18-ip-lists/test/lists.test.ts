// Stage 18's milestones: real clients from other loopback addresses
// (127.0.0.2 and 127.0.0.3, as curl --interface does), against routes with
// allow and deny lists, on an IPv4 bind and on a dual-stack :: bind.
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { defineStage, type MilestoneContext } from "@xps/testkit";
import { get, replyProblems, splitReply } from "../../stage-14-http-request/test/exchange.ts";
import { countingServer, ports, startOnConfig, tempDir, writeConfig } from "../../stage-16-config/test/configs.ts";

const stage = defineStage(path.join(import.meta.dirname, ".."));

/** GET `pathname` from `from` (a local address) to host:port; what came back, once the server closed. */
function getFrom(from: string, host: string, port: number, pathname: string): Promise<{ raw: Buffer; ended: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ host, port, localAddress: from });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ raw: Buffer.concat(chunks), ended: false });
    }, 5000);
    socket.on("connect", () => socket.write(get(pathname)));
    socket.on("data", (d) => chunks.push(d));
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearTimeout(timer);
      resolve({ raw: Buffer.concat(chunks), ended: true });
    });
  });
}

/** The client at `from` must get `status` for `pathname`, as a complete reply. */
async function expectFrom(t: MilestoneContext, from: string, host: string, port: number, pathname: string, status: number, why: string): Promise<void> {
  const { raw, ended } = await getFrom(from, host, port, pathname);
  const r = { raw, ...splitReply(raw), result: { outcome: ended ? ("ended" as const) : ("open" as const), bytes: raw.length } };
  const problems = replyProblems(r as unknown as Parameters<typeof replyProblems>[0], { status }, false);
  if (problems.length > 0) {
    t.fail({ problem: `GET ${pathname} from ${from} to ${host}:${port} (${why}): ${problems[0]}`, sent: Buffer.from(get(pathname), "latin1"), got: raw.subarray(0, 300), notes: problems.slice(1) });
  }
}

/** A folder with one file per route, and a config of routes with lists, bound to `bind`. */
function site(dir: string, names: string[]): string {
  const root = path.join(dir, "site");
  for (const n of names) {
    fs.mkdirSync(path.join(root, n), { recursive: true });
    fs.writeFileSync(path.join(root, n, "x.txt"), `route ${n}\n`);
  }
  return root;
}

type Lists = { ip_whitelist?: string[]; ip_blacklist?: string[] };

async function startWithLists(t: MilestoneContext, bind: string, routes: Record<string, Lists>, extra: unknown[] = []): Promise<number> {
  const dir = tempDir(t);
  const root = site(dir, Object.keys(routes));
  const [port] = await ports(1);
  const config = {
    servers: [
      {
        listeners: [{ host: bind, port }],
        routes: [...Object.entries(routes).map(([n, lists]) => ({ req_path: `/${n}/`, type: "file_serve", dir_path: root, ...lists })), ...extra],
      },
    ],
  };
  await startOnConfig(t, writeConfig(dir, config), [port!]);
  return port!;
}

stage.milestone("m1", async (t: MilestoneContext) => {
  // Nothing of a refused route is done: its upstream is never dialled.
  const upstream = await countingServer(t);
  const up = upstream.port;
  const port = await startWithLists(
    t,
    "127.0.0.1",
    {
      black: { ip_blacklist: ["127.0.0.1"] },
      elsewhere: { ip_whitelist: ["1.1.1.1"] },
      white: { ip_whitelist: ["127.0.0.1"] },
      sample: { ip_whitelist: ["127.0.0.1", "0.0.0.0"], ip_blacklist: ["127.0.0.2"] },
      open: {},
    },
    [{ req_path: "/proxy/", type: "reverse_proxy", upstreams: [`127.0.0.1:${up}`], ip_blacklist: ["127.0.0.2"] }],
  );
  await expectFrom(t, "127.0.0.1", "127.0.0.1", port, "/black/x.txt", 403, "127.0.0.1 is blacklisted");
  await expectFrom(t, "127.0.0.2", "127.0.0.1", port, "/black/x.txt", 200, "only 127.0.0.1 is blacklisted");
  await expectFrom(t, "127.0.0.1", "127.0.0.1", port, "/elsewhere/x.txt", 403, "only 1.1.1.1 is whitelisted");
  await expectFrom(t, "127.0.0.1", "127.0.0.1", port, "/white/x.txt", 200, "127.0.0.1 is whitelisted");
  await expectFrom(t, "127.0.0.3", "127.0.0.1", port, "/white/x.txt", 403, "only 127.0.0.1 is whitelisted");
  await expectFrom(t, "127.0.0.1", "127.0.0.1", port, "/sample/x.txt", 200, "the C course's sample: 127.0.0.1 is whitelisted");
  await expectFrom(t, "127.0.0.2", "127.0.0.1", port, "/sample/x.txt", 403, "the C course's sample: 127.0.0.2 is blacklisted");
  await expectFrom(t, "127.0.0.3", "127.0.0.1", port, "/open/x.txt", 200, "a route without lists is open to everyone");
  await expectFrom(t, "127.0.0.2", "127.0.0.1", port, "/proxy/x", 403, "127.0.0.2 is blacklisted on the proxy route");
  t.same("connections to the upstream of a route the client was refused", upstream.count(), 0);
});

stage.milestone("m2", async (t: MilestoneContext) => {
  const port = await startWithLists(t, "127.0.0.1", {
    both: { ip_whitelist: ["127.0.0.2", "127.0.0.1"], ip_blacklist: ["127.0.0.2"] },
  });
  await expectFrom(t, "127.0.0.2", "127.0.0.1", port, "/both/x.txt", 200, "127.0.0.2 is on both lists: the allow list wins");
  await expectFrom(t, "127.0.0.1", "127.0.0.1", port, "/both/x.txt", 200, "127.0.0.1 is whitelisted");
  await expectFrom(t, "127.0.0.3", "127.0.0.1", port, "/both/x.txt", 403, "127.0.0.3 is on neither list, and there is a whitelist");
});

/** Can this machine listen on :: and reach ::1? */
async function ipv6(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer((c) => c.destroy());
    s.once("error", () => resolve(false));
    s.listen(0, "::1", () => {
      const c = net.connect({ host: "::1", port: (s.address() as net.AddressInfo).port });
      c.once("connect", () => (c.destroy(), s.close(), resolve(true)));
      c.once("error", () => (s.close(), resolve(false)));
    });
  });
}

stage.milestone("m3", async (t: MilestoneContext) => {
  const routes: Record<string, Lists> = {
    black: { ip_blacklist: ["127.0.0.2"] },
    white: { ip_whitelist: ["127.0.0.1", "::FFFF:127.0.0.3"] },
  };
  const v6 = await ipv6();
  if (v6) {
    routes.local6 = { ip_whitelist: ["::1"] };
    routes.other6 = { ip_whitelist: ["fe80::1"] };
  }
  for (const bind of ["::", "127.0.0.1"]) {
    const port = await startWithLists(t, bind, routes);
    const on = bind === "::" ? "a dual-stack :: bind, where Node reports ::ffff:127.0.0.2" : "an IPv4 bind";
    await expectFrom(t, "127.0.0.2", "127.0.0.1", port, "/black/x.txt", 403, `127.0.0.2 is blacklisted, on ${on}`);
    await expectFrom(t, "127.0.0.3", "127.0.0.1", port, "/black/x.txt", 200, `only 127.0.0.2 is blacklisted, on ${on}`);
    await expectFrom(t, "127.0.0.1", "127.0.0.1", port, "/white/x.txt", 200, `127.0.0.1 is whitelisted, on ${on}`);
    await expectFrom(t, "127.0.0.3", "127.0.0.1", port, "/white/x.txt", 200, `::FFFF:127.0.0.3 in the list is 127.0.0.3, on ${on}`);
    await expectFrom(t, "127.0.0.2", "127.0.0.1", port, "/white/x.txt", 403, `127.0.0.2 is not whitelisted, on ${on}`);
    if (v6 && bind === "::") {
      await expectFrom(t, "::1", "::1", port, "/local6/x.txt", 200, "::1 is whitelisted");
      await expectFrom(t, "127.0.0.1", "127.0.0.1", port, "/local6/x.txt", 403, "only ::1 is whitelisted");
      await expectFrom(t, "::1", "::1", port, "/other6/x.txt", 403, "only fe80::1 is whitelisted, which is not ::1");
    }
  }
});
