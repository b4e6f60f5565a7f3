// A static file server for the built site, on 127.0.0.1 and a free port, for
// the browser test: VitePress's own URLs (clean or .html) under the base path.
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".woff2": "font/woff2",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
};

export interface StaticServer {
  url: string;
  close(): Promise<void>;
}

/** Serve `dir` under `base` ("/" or "/name/"). Port 0: a free one. */
export async function serveStatic(dir: string, base = "/", port = 0): Promise<StaticServer> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    let p = decodeURIComponent(url.pathname);
    if (!p.startsWith(base)) {
      res.writeHead(404).end("outside the base path");
      return;
    }
    p = p.slice(base.length);
    const candidates = p === "" || p.endsWith("/") ? [`${p}index.html`] : [p, `${p}.html`, `${p}/index.html`];
    for (const c of candidates) {
      const file = path.join(dir, c);
      if (!file.startsWith(path.resolve(dir)) || !fs.existsSync(file) || !fs.statSync(file).isFile()) continue;
      res.writeHead(200, { "content-type": TYPES[path.extname(file)] ?? "application/octet-stream" });
      fs.createReadStream(file).pipe(res);
      return;
    }
    const notFound = path.join(dir, "404.html");
    res.writeHead(404, { "content-type": TYPES[".html"]! });
    res.end(fs.existsSync(notFound) ? fs.readFileSync(notFound) : "not found");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}${base}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
