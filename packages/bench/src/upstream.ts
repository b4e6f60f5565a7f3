// The bench's upstream: a fast Node http server with fixed bodies and
// keep-alive, run as its own process so that its CPU is not the proxy's.
//
//   node --import tsx upstream.ts --port PORT
//
//   GET /small   100 bytes
//   GET /big64   64 MiB
//   GET /big256  256 MiB (the 64 MiB buffer written four times)
//
// The bodies are allocated once. Keep-alive connections stay open for ten
// minutes, so the idle workload's connections are not closed under it.
import http from "node:http";
import { parseArgs } from "node:util";

const MiB = 2 ** 20;
const SMALL_BODY_BYTES = 100;
const BIG_BODY_BYTES = { big64: 64 * MiB, big256: 256 * MiB } as const;

const { values } = parseArgs({ options: { port: { type: "string" } }, strict: true });
const port = Number(values.port);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  process.stderr.write("upstream: --port PORT is required\n");
  process.exit(2);
}

const small = Buffer.alloc(SMALL_BODY_BYTES, "x");
const big = Buffer.alloc(64 * MiB, "y");

const server = http.createServer(
  { keepAliveTimeout: 600_000, requestTimeout: 0, headersTimeout: 0, noDelay: true },
  (req, res) => {
    switch (req.url) {
      case "/small":
        res.writeHead(200, { "content-type": "text/plain", "content-length": SMALL_BODY_BYTES });
        res.end(small);
        return;
      case "/big64":
        res.writeHead(200, { "content-type": "application/octet-stream", "content-length": BIG_BODY_BYTES.big64 });
        res.end(big);
        return;
      case "/big256":
        res.writeHead(200, { "content-type": "application/octet-stream", "content-length": BIG_BODY_BYTES.big256 });
        // The same buffer four times: Node queues references, not copies.
        res.write(big);
        res.write(big);
        res.write(big);
        res.end(big);
        return;
      default:
        res.writeHead(404, { "content-type": "text/plain", "content-length": 10 });
        res.end("not found\n");
    }
  },
);
server.keepAliveTimeout = 600_000;
server.on("clientError", (_err, socket) => socket.destroy());

server.listen(port, "127.0.0.1", () => {
  process.stdout.write(`upstream listening on 127.0.0.1:${port}\n`);
});

process.on("SIGTERM", () => process.exit(0));
process.on("SIGINT", () => process.exit(0));
