// The plain Node HTTP file server: what a Node developer writes in ten lines,
// and the peer the stage 15 server is compared with. Each request's path
// names a file of the folder; it is stat()ed for its Content-Length and
// streamed with fs.createReadStream(...).pipe(res), whose flow control
// (res.write() returns false, the read stream pauses until 'drain') keeps
// memory bounded. A client that asks for "Connection: close" gets it, as
// from the stage 15 server; a path outside the folder or a missing file is
// a 404.
//
//   node --import tsx node-http.ts --port PORT --public DIR
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { port: { type: "string" }, public: { type: "string" } }, strict: true });
const port = Number(values.port);
if (!Number.isInteger(port) || values.public === undefined) {
  process.stderr.write("node-http: --port PORT --public DIR are required\n");
  process.exit(2);
}
const root = path.resolve(values.public);

const notFound = (res: http.ServerResponse): void => {
  res.writeHead(404, { "Content-Type": "text/plain", "Content-Length": 10 }).end("not found\n");
};

const server = http.createServer((req, res) => {
  let name: string;
  try {
    name = decodeURIComponent(new URL(req.url ?? "/", "http://localhost").pathname);
  } catch {
    notFound(res);
    return;
  }
  const file = path.join(root, name);
  if (!file.startsWith(root + path.sep)) {
    notFound(res);
    return;
  }
  fs.stat(file, (err, st) => {
    if (err !== null || !st.isFile()) {
      notFound(res);
      return;
    }
    res.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": st.size });
    const stream = fs.createReadStream(file);
    stream.on("error", () => res.destroy());
    stream.pipe(res);
  });
});
server.on("error", (err) => {
  process.stderr.write(`node-http: ${err.message}\n`);
  process.exit(1);
});
server.listen({ host: "127.0.0.1", port }, () => {
  process.stdout.write(`node http server listening on 127.0.0.1:${port}, serving ${root}\n`);
});

process.on("SIGTERM", () => process.exit(0));
process.on("SIGINT", () => process.exit(0));
