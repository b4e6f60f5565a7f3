// @stages 16-
// The config (xps_config.c, stage 16): xps_config.json read, checked and
// turned into the servers, listeners and routes the server runs, and the
// lookup that decides, for each request, what answers it.
//
// Where the C course differs. parson becomes JSON.parse. The C code reads
// the keys it knows and ignores the rest, and a wrong value shows up later
// (or never); here the whole file is checked first, against the JSON Schema
// of config-schema.ts (with ajv), and every problem is reported at once, one
// line each: the file, the JSON path, what was expected and what was found.
// A key the schema does not know is a WARNING, not an error: the official
// tester's config holds keys (workers, gzip_enable, gzip_level) that this
// server does not read. A config with a problem starts nothing.
//
// Relative dir_paths are resolved against the config file's folder (the C
// course resolves them against the working directory; the course's configs
// work either way when the server runs from its stage folder).
import fs from "node:fs";
import path from "node:path";
import { Ajv, type ErrorObject } from "ajv";
import { E_NOTFOUND, OK, parseHostPort, type HostPort } from "@xps/utils";
import { CONFIG_SCHEMA, KEY_MEANINGS, type RouteType } from "@xps/connection/config-schema";

/** A listening address: the host as the config gives it (127.0.0.1 when it gives none). */
export interface ConfigListener {
  host: string;
  port: number;
}

/** One route, as the config gives it. */
export interface ConfigRoute {
  req_path: string;
  type: RouteType;
  /** file_serve: absolute once the config is read. */
  dir_path?: string;
  index?: string[];
  upstreams?: string[];
  http_status_code?: number;
  redirect_url?: string;
  ip_whitelist?: string[]; // @since 18
  ip_blacklist?: string[]; // @since 18
}

export interface ConfigServer {
  listeners: ConfigListener[];
  /** The Host names this server answers; empty: any. */
  hostnames: string[];
  /** Empty when the config gives none: every request is a 404. */
  routes: ConfigRoute[];
}

export interface XpsConfig {
  /** Absolute. */
  configPath: string;
  serverName: string;
  servers: ConfigServer[];
  /** Every (host, port) of every server, once each: one listener each. */
  listeners: ConfigListener[];
}

/** What configCreate gives: the config, or null and one line per problem; warnings either way. */
export interface ConfigResult {
  config: XpsConfig | null;
  problems: string[];
  warnings: string[];
}

/** xps_config_lookup_t: what answers one request. */
export interface Lookup {
  type: RouteType;
  /** The route that matched. */
  route: ConfigRoute;
  /** file_serve: the file to send, or null when the path names none (a 404). */
  filePath: string | null;
  /** file_serve: the route's folder (absolute); the file must lie inside it. */
  root: string | null;
  /** file_serve: the folder the path names, when it has no index file: its listing answers (stage 17). */ // @since 17
  dirPath: string | null; // @since 17
  /** reverse_proxy: the upstream the route names, the only one ever dialled. */
  upstream: HostPort | null;
  /** redirect: the status and the Location. */
  httpStatusCode: number;
  redirectUrl: string | null;
  // @since 18 begin
  /** The route's allow and deny lists, normalized (normalizeIp). */
  ipWhitelist: string[];
  ipBlacklist: string[];
  // @since end
}

/** The request as the lookup needs it. */
export interface LookupRequest {
  /** The listener the client came in on. */
  listener: ConfigListener;
  /** The Host header, or null. */
  host: string | null;
  /** The request's path without its query, percent-decoded. */
  pathname: string;
}

export const DEFAULT_CONFIG_HOST = "127.0.0.1";

// ------------------------------------------------------- reading and checking

const validate = new Ajv({ allErrors: true, strict: false }).compile(CONFIG_SCHEMA);

/** "/servers/0/listeners/1/port" -> "servers[0].listeners[1].port"; "" -> "(the top level)". */
export function jsonPath(pointer: string, key?: string): string {
  const parts = pointer.split("/").slice(1).map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
  if (key !== undefined) parts.push(key);
  const out = parts.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
  return out === "" ? "(the top level)" : out;
}

/** A value as a problem line shows it: JSON, cut short. */
export function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** The value at a JSON pointer. */
function valueAt(json: unknown, pointer: string): unknown {
  let v = json;
  for (const p of pointer.split("/").slice(1)) v = (v as Record<string, unknown> | undefined)?.[p.replace(/~1/g, "/").replace(/~0/g, "~")];
  return v;
}

/** One ajv finding, in words: "PATH: expected ..., found ...". */
function schemaProblem(json: unknown, e: ErrorObject): string {
  const found = shown(valueAt(json, e.instancePath));
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case "required": {
      const key = String(p.missingProperty);
      return `${jsonPath(e.instancePath, key)}: expected ${KEY_MEANINGS[key] ?? "a value"}, found nothing (the key is missing)`;
    }
    case "type":
      return `${jsonPath(e.instancePath)}: expected ${p.type === "integer" ? "an integer" : `a value of type ${String(p.type)}`}, found ${found}`;
    case "minimum":
    case "maximum":
      return `${jsonPath(e.instancePath)}: expected a number ${e.keyword === "minimum" ? "at least" : "at most"} ${String(p.limit)}, found ${found}`;
    case "enum":
      return `${jsonPath(e.instancePath)}: expected one of ${(p.allowedValues as unknown[]).map(shown).join(", ")}, found ${found}`;
    case "minItems":
      return `${jsonPath(e.instancePath)}: expected a list of at least ${String(p.limit)}, found ${found}`;
    case "minLength":
      return `${jsonPath(e.instancePath)}: expected a string that is not empty, found ${found}`;
    case "pattern":
      return `${jsonPath(e.instancePath)}: expected ${(e.parentSchema as { description?: string } | undefined)?.description ?? `a string matching ${String(p.pattern)}`}, found ${found}`;
    default:
      return `${jsonPath(e.instancePath)}: ${e.message ?? "is not valid"}, found ${found}`;
  }
}

/** The schema's verdict: problems (errors) and unknown keys (warnings), each with the file's name first. */
export function schemaCheck(file: string, json: unknown): { problems: string[]; warnings: string[] } {
  const problems: string[] = [];
  const warnings: string[] = [];
  if (validate(json)) return { problems, warnings };
  for (const e of validate.errors ?? []) {
    if (e.keyword === "if") continue; // its "then" finding says what is wrong
    if (e.keyword === "additionalProperties") {
      const key = String((e.params as { additionalProperty: string }).additionalProperty);
      warnings.push(`${file}: ${jsonPath(e.instancePath, key)}: unknown key, ignored (a typo? the keys here are ${Object.keys(valueAt(CONFIG_SCHEMA, schemaPointer(e.schemaPath)) ?? {}).join(", ")})`);
      continue;
    }
    problems.push(`${file}: ${schemaProblem(json, e)}`);
  }
  return { problems, warnings };
}

/** "#/properties/servers/items/additionalProperties" -> "/properties/servers/items/properties". */
function schemaPointer(schemaPath: string): string {
  return schemaPath.replace(/^#/, "").replace(/\/additionalProperties$/, "/properties");
}

/** A relative dir_path, made absolute against the config file's folder. */
export function resolveDir(configPath: string, dir: string): string {
  return path.resolve(path.dirname(configPath), dir);
}

/**
 * What the schema cannot check: that every file_serve dir_path is a folder
 * that exists, and that every upstream is a HOST:PORT with a port from 1 to
 * 65535. One line per problem.
 */
export function routeProblems(file: string, json: { servers: { routes?: ConfigRoute[] }[] }): string[] {
  // @solution stage-16 begin 1: Check what the schema cannot
  //> For every route of every server (a server may have no routes), give
  //> one line per problem, each "FILE: PATH: expected ..., found ...", with
  //> PATH as jsonPath writes it (servers[0].routes[1].dir_path).
  //> file_serve: the dir_path, made absolute against the config file's
  //> folder (resolveDir), must be a folder that exists: a path that is not
  //> there and a path that is a file are both problems, and the line says
  //> which.
  //> reverse_proxy: each upstream must parse as HOST:PORT (parseHostPort:
  //> null when the port is out of range).
  const problems: string[] = [];
  json.servers.forEach((server, s) => {
    (server.routes ?? []).forEach((route, r) => {
      const at = `${file}: ${jsonPath(`/servers/${s}/routes/${r}`)}`;
      if (route.type === "file_serve" && route.dir_path !== undefined) {
        const dir = resolveDir(file, route.dir_path);
        let what: string | null = null;
        try {
          if (!fs.statSync(dir).isDirectory()) what = `${dir}, which is not a folder`;
        } catch {
          what = `${dir}, which does not exist`;
        }
        if (what !== null) problems.push(`${at}.dir_path: expected a folder to serve files from, found ${what}`);
      }
      if (route.type === "reverse_proxy") {
        (route.upstreams ?? []).forEach((u, i) => {
          if (parseHostPort(u) === null) problems.push(`${at}.upstreams[${i}]: expected HOST:PORT with a port from 1 to 65535, found ${shown(u)}`);
        });
      }
    });
  });
  return problems;
  // @solution end
}

/** Every (host, port) pair of every server, once each, in the order they first appear. */
export function configListeners(servers: ConfigServer[]): ConfigListener[] {
  // @solution stage-16 begin 2: One listener per address
  //> parse_all_listener: walk every listener of every server and keep each
  //> (host, port) pair once, in the order it first appears. Two servers may
  //> share a listener (they are told apart by their hostnames), and a port
  //> bound twice fails with EADDRINUSE.
  const out: ConfigListener[] = [];
  for (const server of servers) {
    for (const l of server.listeners) {
      if (!out.some((o) => o.host === l.host && o.port === l.port)) out.push(l);
    }
  }
  return out;
  // @solution end
}

/**
 * xps_config_create: read, parse and check the config at `configPath`.
 * Never throws on a config mistake: each one is a line of `problems`.
 */
export function configCreate(configPath: string): ConfigResult {
  const file = path.resolve(configPath);
  const fail = (problem: string): ConfigResult => ({ config: null, problems: [problem], warnings: [] });
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    return fail(`${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return fail(`${file}: (the whole file): expected JSON, found text JSON.parse refuses: ${(err as Error).message}`);
  }
  const { problems, warnings } = schemaCheck(file, json);
  if (problems.length > 0) return { config: null, problems, warnings };
  const raw = json as { server_name?: string; servers: { listeners: { host?: string; port: number }[]; hostnames?: string[]; routes?: ConfigRoute[] }[] };
  const more = routeProblems(file, raw);
  if (more.length > 0) return { config: null, problems: more, warnings };
  const servers: ConfigServer[] = raw.servers.map((s) => ({
    listeners: s.listeners.map((l) => ({ host: l.host ?? DEFAULT_CONFIG_HOST, port: l.port })),
    hostnames: (s.hostnames ?? []).map((h) => h.toLowerCase()),
    routes: (s.routes ?? []).map((r) => (r.type === "file_serve" && r.dir_path !== undefined ? { ...r, dir_path: resolveDir(file, r.dir_path) } : r)),
  }));
  const config: XpsConfig = { configPath: file, serverName: raw.server_name ?? "eXpServer", servers, listeners: configListeners(servers) };
  return { config, problems: [], warnings };
}

// ------------------------------------------------------- the lookup

/** The host of a Host header, without its port, in lower case: "Example.com:8001" -> "example.com", "[::1]:80" -> "[::1]". */
export function hostOfHeader(value: string | null): string | null {
  if (value === null) return null;
  const m = /^(\[[^\]]*\]|[^:]*)(?::\d*)?$/.exec(value.trim());
  return m === null ? null : m[1]!.toLowerCase();
}

/** Is `name` a file (a folder or nothing: no)? */
function isFile(name: string): boolean {
  try {
    return fs.statSync(name).isFile();
  } catch {
    return false;
  }
}

/** Is `name` a folder? */
export function isDir(name: string): boolean {
  try {
    return fs.statSync(name).isDirectory();
  } catch {
    return false;
  }
}

/**
 * xps_config_lookup: what answers the request. E_NOTFOUND (and no lookup)
 * when no route of the request's server matches its path.
 */
export function configLookup(config: XpsConfig, req: LookupRequest): { lookup: Lookup | null; error: number } {
  // @solution stage-16 begin 3: Look the request up
  //> The server: among the servers that have a listener equal to the
  //> client's (same host, same port), the first whose hostnames hold the
  //> request's host (hostOfHeader), or else the first whose hostnames are
  //> empty, or else the first of them (the default server, as in nginx).
  //> The route: of that server's routes, those whose req_path the pathname
  //> starts with; the longest req_path wins. None: E_NOTFOUND.
  //> The lookup, by the route's type (every field not named is null, the
  //> code 0):
  //> file_serve: root is the route's dir_path; the resource is the pathname
  //> joined to it (path.join). A file: filePath is the resource. A folder:
  //> filePath is the first of the route's index names (in order) that is a
  //> file inside it; none: null.
  //> reverse_proxy: upstream is the first of the route's upstreams
  //> (parseHostPort), whatever the request's own host says.
  //> redirect: httpStatusCode and redirectUrl, as the route gives them.
  const onListener = config.servers.filter((s) => s.listeners.some((l) => l.host === req.listener.host && l.port === req.listener.port));
  const host = hostOfHeader(req.host);
  const server =
    onListener.find((s) => host !== null && s.hostnames.includes(host)) ?? onListener.find((s) => s.hostnames.length === 0) ?? onListener[0];
  if (server === undefined) return { lookup: null, error: E_NOTFOUND };
  let route: ConfigRoute | null = null;
  for (const r of server.routes) {
    if (req.pathname.startsWith(r.req_path) && (route === null || r.req_path.length > route.req_path.length)) route = r;
  }
  if (route === null) return { lookup: null, error: E_NOTFOUND };
  const lookup: Lookup = {
    type: route.type,
    route,
    filePath: null,
    root: null,
    dirPath: null, // @since 17
    upstream: null,
    httpStatusCode: 0,
    redirectUrl: null,
    ...ipLists(route), // @since 18
  };
  if (route.type === "file_serve") {
    const root = route.dir_path!;
    const resource = path.join(root, req.pathname);
    lookup.root = root;
    if (isFile(resource)) lookup.filePath = resource;
    else if (isDir(resource)) lookup.filePath = (route.index ?? []).map((name) => path.join(resource, name)).find(isFile) ?? null;
    if (lookup.filePath === null && isDir(resource)) lookup.dirPath = resource; // @since 17
  } else if (route.type === "reverse_proxy") {
    lookup.upstream = parseHostPort(route.upstreams![0]!);
  } else {
    lookup.httpStatusCode = route.http_status_code!;
    lookup.redirectUrl = route.redirect_url!;
  }
  return { lookup, error: OK };
  // @solution end
}
// @since 18 begin

// ------------------------------------------------------- the allow and deny lists

/**
 * A client address as a person writes it: an IPv4 address that a dual-stack
 * socket reports in its IPv6-mapped form (::ffff:127.0.0.1) is given back as
 * 127.0.0.1, and IPv6 addresses are in lower case. Anything else as it is.
 */
export function normalizeIp(address: string): string {
  // @solution stage-18 begin 1: Write the address as a person does
  //> A dual-stack socket (bound to ::) reports an IPv4 client as
  //> ::ffff:a.b.c.d (the prefix in any case). Give back a.b.c.d for that
  //> form, lower case for any other IPv6 address, and anything else as it
  //> is. List entries go through the same function, so that
  //> "::FFFF:127.0.0.1" in a config matches too.
  const lower = address.trim().toLowerCase();
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(lower);
  return mapped !== null ? mapped[1]! : lower;
  // @solution end
}

/** A route's lists for its lookup, each entry normalized (normalizeIp). */
export function ipLists(route: ConfigRoute): { ipWhitelist: string[]; ipBlacklist: string[] } {
  return { ipWhitelist: (route.ip_whitelist ?? []).map(normalizeIp), ipBlacklist: (route.ip_blacklist ?? []).map(normalizeIp) };
}

/**
 * May the client at `remoteIp` use the lookup's route? Null when it may,
 * otherwise why not (for the log line and the 403's body).
 */
export function ipRefusal(lookup: Lookup, remoteIp: string): string | null {
  // @solution stage-18 begin 2: Allow or deny
  //> Normalize the client's address (normalizeIp). An allow list that is
  //> not empty decides alone: an address on it may, any other may not ("is
  //> not whitelisted"). Otherwise an address on the deny list may not ("is
  //> blacklisted"). Otherwise it may (null). The allow list wins: an
  //> address on both lists may.
  const ip = normalizeIp(remoteIp);
  if (lookup.ipWhitelist.length > 0) return lookup.ipWhitelist.includes(ip) ? null : `client ip ${ip} is not whitelisted`;
  if (lookup.ipBlacklist.includes(ip)) return `client ip ${ip} is blacklisted`;
  return null;
  // @solution end
}
// @since end
