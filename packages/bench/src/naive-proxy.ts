// The naive Node TCP proxy: what a Node developer writes in ten lines, and the
// peer the stage 11 proxy is compared with. Each client gets its own upstream
// connection and the two sockets are piped into each other; an error or a
// close on either side destroys both. pipe() brings its own flow control
// (write() returns false, the source pauses until 'drain'), so memory stays
// bounded. Nagle is off on both sides, as in the stage 11 proxy.
//
//   node --import tsx naive-proxy.ts --port PORT --upstream HOST:PORT
import net from "node:net";
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { port: { type: "string" }, upstream: { type: "string" } }, strict: true });
const port = Number(values.port);
const m = /^(.+):(\d+)$/.exec(values.upstream ?? "");
if (!Number.isInteger(port) || m === null) {
  process.stderr.write("naive-proxy: --port PORT --upstream HOST:PORT are required\n");
  process.exit(2);
}
const upstreamHost = m[1]!;
const upstreamPort = Number(m[2]);

const server = net.createServer({ noDelay: true }, (client) => {
  const upstream = net.connect({ host: upstreamHost, port: upstreamPort, noDelay: true });
  const destroyBoth = (): void => {
    client.destroy();
    upstream.destroy();
  };
  client.on("error", destroyBoth);
  upstream.on("error", destroyBoth);
  client.on("close", () => upstream.destroy());
  upstream.on("close", () => client.destroy());
  client.pipe(upstream);
  upstream.pipe(client);
});
server.on("error", (err) => {
  process.stderr.write(`naive-proxy: ${err.message}\n`);
  process.exit(1);
});
server.listen({ host: "127.0.0.1", port }, () => {
  process.stdout.write(`naive proxy listening on 127.0.0.1:${port}\n`);
});

process.on("SIGTERM", () => process.exit(0));
process.on("SIGINT", () => process.exit(0));
