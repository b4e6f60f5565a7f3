// @stages 16-
// The JSON Schema of xps_config.json (stage 16), the one source of what a
// config may hold. config.ts checks every config against it with ajv; the
// course also ships it as a file (stages/stage-16-config/xps_config.schema.json,
// kept equal to this object by the connection package's tests), so that a
// config can name it in "$schema" and an editor completes and checks it.
//
// "additionalProperties": false everywhere: an editor marks a key it does
// not know, and config.ts turns those findings into WARNING lines instead of
// errors (the official tester's config has keys this server does not read).

/** The route types this server knows. */
export const ROUTE_TYPES = ["file_serve", "reverse_proxy", "redirect"] as const;
export type RouteType = (typeof ROUTE_TYPES)[number];

/** The status codes a redirect route may answer with. */
export const REDIRECT_CODES = [301, 302, 307, 308] as const;

const hostPort = {
  type: "string",
  pattern: "^(\\[[0-9A-Fa-f:.]+\\]|[^\\s:/\\[\\]]+):[0-9]{1,5}$",
  description: "HOST:PORT, such as 127.0.0.1:3000 or [::1]:3000",
};

// @since 18 begin
const ipList = {
  type: "array",
  items: { type: "string", minLength: 1 },
  description: "client addresses as a person writes them: 127.0.0.1, ::1",
};
// @since end

export const CONFIG_SCHEMA = {
  $schema: "http://json-schema.org/draft-07/schema#",
  $id: "https://expserver.github.io/schemas/xps_config.schema.json",
  title: "eXpServer config (xps_config.json)",
  type: "object",
  required: ["servers"],
  additionalProperties: false,
  properties: {
    $schema: { type: "string", description: "where this schema is, for editors" },
    server_name: { type: "string", description: "the name the server gives itself" },
    servers: {
      type: "array",
      minItems: 1,
      items: {
        type: "object",
        required: ["listeners"],
        additionalProperties: false,
        properties: {
          listeners: {
            type: "array",
            minItems: 1,
            items: {
              type: "object",
              required: ["port"],
              additionalProperties: false,
              properties: {
                host: { type: "string", minLength: 1, description: "the address to bind; 127.0.0.1 (this machine only) when left out" },
                port: { type: "integer", minimum: 1, maximum: 65535 },
              },
            },
          },
          hostnames: { type: "array", items: { type: "string", minLength: 1 }, description: "the Host names this server answers; any when empty or left out" },
          routes: {
            type: "array",
            description: "left out: every request to this server is a 404",
            items: {
              type: "object",
              required: ["req_path", "type"],
              additionalProperties: false,
              properties: {
                req_path: { type: "string", pattern: "^/", description: "the path prefix this route serves; the longest matching one wins" },
                type: { enum: [...ROUTE_TYPES] },
                dir_path: { type: "string", minLength: 1, description: "file_serve: the folder, relative to this config file's folder unless absolute" },
                index: { type: "array", items: { type: "string", minLength: 1, pattern: "^[^/]+$" }, description: "file_serve: the files tried, in order, for a folder" },
                upstreams: { type: "array", minItems: 1, items: hostPort, description: "reverse_proxy: where to proxy to (the first one)" },
                http_status_code: { enum: [...REDIRECT_CODES], description: "redirect: the status of the reply" },
                redirect_url: { type: "string", minLength: 1, description: "redirect: the Location of the reply" },
                ip_whitelist: ipList, // @since 18
                ip_blacklist: ipList, // @since 18
              },
              allOf: [
                { if: { properties: { type: { const: "file_serve" } } }, then: { required: ["dir_path"] } },
                { if: { properties: { type: { const: "reverse_proxy" } } }, then: { required: ["upstreams"] } },
                { if: { properties: { type: { const: "redirect" } } }, then: { required: ["http_status_code", "redirect_url"] } },
              ],
            },
          },
        },
      },
    },
  },
} as const;

/** What each key holds, in words, for the error of a key that is missing. */
export const KEY_MEANINGS: Readonly<Record<string, string>> = {
  servers: "a list of servers",
  listeners: "a list of {host, port} listeners",
  port: "a port from 1 to 65535",
  req_path: 'a path prefix such as "/"',
  type: `a route type (${ROUTE_TYPES.join(", ")})`,
  dir_path: "the folder a file_serve route serves",
  upstreams: 'a list of upstreams such as ["127.0.0.1:3000"]',
  http_status_code: `a redirect status (${REDIRECT_CODES.join(", ")})`,
  redirect_url: 'the URL a redirect sends to, such as "http://localhost:8002/"',
};
