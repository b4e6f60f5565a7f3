// Stage 6 milestones, black-box: the stage's server runs as its own process
// on free ports and is spoken to over real TCP, one message at a time, as
// the official tester does.
import net from "node:net";
import path from "node:path";
import { concurrentClients, defineStage, freePorts, reversesOnEveryPort, survivesDisconnects } from "@xps/testkit";

const stage = defineStage(path.join(import.meta.dirname, ".."));

stage.milestone("m1", async (t) => {
  await reversesOnEveryPort(t, await t.server());
});

stage.milestone("m2", async (t) => {
  await concurrentClients(t, await t.server());
});

stage.milestone("m3", async (t) => {
  await survivesDisconnects(t, await t.server());
});

// One of the four ports is taken by another program: listenerCreate must
// notice that listen() failed (it is asynchronous in Node, and reports the
// failure as an 'error' event), log an ERROR that names the port, and return
// null, and the server then exits with code 1 instead of running without it.
stage.milestone("m5", async (t) => {
  const busy = net.createServer();
  await new Promise<void>((resolve, reject) => {
    busy.once("error", reject);
    busy.listen(0, "127.0.0.1", () => resolve());
  });
  t.cleanup(() => new Promise((resolve) => busy.close(resolve)));
  const taken = (busy.address() as net.AddressInfo).port;
  const free = await freePorts(3);
  const ports = [free[0]!, taken, free[1]!, free[2]!];
  const server = await t.server({ ports: 0, args: ["--ports", ports.join(",")] });
  // It exits, or says it runs (the line after the "Server listening" ones),
  // or the failure escapes as an uncaught exception; or, if listen() is
  // awaited but never settles, nothing happens at all.
  const running = server.waitForLine(/Ctrl\+C stops the server|uncaught exception|unhandled rejection/, 8000, true);
  await Promise.race([server.waitExit(8000), running]);
  if (server.alive()) await server.waitExit(1000);
  // Gone, but its exit code not in yet (the server's own process can be gone
  // a moment before a sandbox above it reports): waitExit waits for that.
  if (!server.alive()) await server.waitExit(3000);
  const where = `with port ${taken} taken by another program (--ports ${ports.join(",")})`;
  if (server.alive()) {
    const claimed = server.log().some((l) => l.includes(`Server listening on http://127.0.0.1:${taken}`));
    t.fail(
      `${where}, the server was still running 8 s later${claimed ? `, and it even said "Server listening on http://127.0.0.1:${taken}"` : ""}: ` +
        "listenerCreate must wait for listen() to succeed or fail (its callback, or the server's 'error' event), and return null when it fails",
    );
  }
  const named = server.log().filter((l) => l.startsWith("[ERROR]") && !l.includes("runStageServer()") && l.includes(String(taken)));
  if (named.length === 0) {
    t.fail(`${where}, the server logged no ERROR of its own that names port ${taken} (listenerCreate's "failed to listen on 127.0.0.1:${taken}: the port is already in use")`);
  }
  if (server.exitCode !== 1) {
    t.fail(`${where}, the server must exit with code 1 once listenerCreate returns null; ${server.exitSignal ? `it was killed by ${server.exitSignal}` : `its exit code was ${server.exitCode}`}`);
  }
});
