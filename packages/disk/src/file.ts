// @stages 12-
// The file module (xps_file.c, stage 12): a file on disk as a pipe source,
// so that a pipe can carry it to a client exactly as it carries a socket's
// bytes.
//
// Only files inside the public folder, and readable by "others", are served.
// Both paths are resolved to real paths first (so ".." and symbolic links
// that lead out of the folder are seen for what they are), and the file must
// lie inside the folder on a path boundary ("public-secret/x" is not inside
// "public"). Each refusal has its code: E_PERMISSION (outside the folder, or
// not readable), E_NOTFOUND (no such file) or E_FAIL (anything else).
//
// Reading is where Node differs from C. C's fread() blocks the thread until
// the bytes are there; a disk is quick, so the C course lets it, and its
// file source is "always ready". In Node a file read goes to libuv's thread
// pool and its callback runs later, on the loop, like a socket's 'data'. So:
//
//   C                                   here
//   fread() into a new buffer           fs.read() on the thread pool: at
//                                        most one read in flight, sized to
//                                        the pipe's room (and at most
//                                        DEFAULT_BUFFER_SIZE)
//   the bytes are there at once         the read's callback parks them in
//                                        file.chunk, sets source.ready and
//                                        asks the loop for a pass (nothing
//                                        else would wake it: no socket
//                                        event announces a finished read)
//   source->ready = true, always        ready: the handler can make
//                                        progress now (a chunk is parked, or
//                                        a read can start); false while a
//                                        read is in flight
//   0 bytes and feof(): destroy         a read of 0 bytes sets eof; the
//                                        handler then destroys the file
//
// The chunk was sized to the room the pipe had when its read started, and
// only this source writes into the pipe, so the pipe plus the parked chunk
// never hold more than the pipe's threshold: the threshold is the only
// bound on what a file costs, however large it is. Opening (realpath, stat,
// open) stays synchronous, as in C: those are quick calls about the file's
// metadata, and fileCreate can then say at once whether the file can be
// served, with its error code, as xps_file_create does.
import fs from "node:fs";
import path from "node:path";
import { DEFAULT_BUFFER_SIZE, E_FAIL, E_NOTFOUND, E_PERMISSION, OK, logger } from "@xps/utils";
import type { Core } from "@xps/core/core";
import { loopSchedule } from "@xps/core/loop";
import { pipeRoom, pipeSourceCreate, pipeSourceDestroy, pipeSourceWrite, type PipeSource } from "@xps/core/pipe";
import { getMime } from "@xps/disk/mime";

export interface XpsFile {
  core: Core;
  /** The file's real path (inside the public folder). */
  filePath: string;
  /** The file as a pipe source: what it reads goes into the source's pipe. */
  source: PipeSource<XpsFile>;
  /** The open file descriptor (C keeps a FILE *), or -1 once it is closed. */
  fd: number;
  /** Its size in bytes when it was opened. */
  size: number;
  /** Its media type by extension (getMime), or null when unknown. */
  mimeType: string | null;
  // Node's side: a read runs on libuv's thread pool and completes later.
  /** Where the next read starts. */
  position: number;
  /** A read is in flight. */
  reading: boolean;
  /** Bytes a finished read brought, waiting for the handler to put them into the pipe. */
  chunk: Buffer | null;
  /** A read found the end of the file. */
  eof: boolean;
  /** A read failed. */
  failure: NodeJS.ErrnoException | null;
  destroyed: boolean;
}

/** What fileCreate gives: the file and OK, or null and why (E_PERMISSION, E_NOTFOUND, E_FAIL). */
export type FileResult = { file: XpsFile; error: typeof OK } | { file: null; error: number };

/** The result code for a failed file system call: permission, not found, or anything else. */
export function fileErrorCode(err: unknown): number {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === "EACCES" || code === "EPERM") return E_PERMISSION;
  if (code === "ENOENT" || code === "ENOTDIR") return E_NOTFOUND;
  return E_FAIL;
}

/** "no such file or directory (ENOENT)", for a log line. */
export function fsReason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const code = e?.code ?? "";
  const text = e?.message?.replace(/^[A-Z]+: /, "").replace(/, \w+ '.*'$/, "") ?? String(err);
  return code ? `${text} (${code})` : text;
}

/** `child` lies inside the folder `root` (both real paths): equal, or below it on a path boundary. */
export function isInside(child: string, root: string): boolean {
  const prefix = root.endsWith(path.sep) ? root : root + path.sep;
  return child.startsWith(prefix);
}

/**
 * xps_file_create: open `filePath` for serving, if it lies inside
 * `publicDir` and others may read it. Returns the file, whose source is
 * ready, and OK; or null and the reason's code, after a WARNING (the file
 * may not be served) or an ERROR (it could not be looked at) that says why.
 */
export function fileCreate(core: Core, filePath: string, publicDir: string): FileResult {
  const real = fileResolve(filePath, publicDir);
  if (typeof real === "number") return { file: null, error: real };
  return fileOpen(core, real);
}

/**
 * The real path of `filePath` when it lies inside `publicDir`; otherwise the
 * code that says why not (E_PERMISSION, E_NOTFOUND or E_FAIL), after a log
 * line.
 */
export function fileResolve(filePath: string, publicDir: string): string | number {
  // @solution stage-12 begin 1: Resolve the path and keep it inside public/
  //> Resolve the public folder and then the file to their real paths
  //> (fs.realpathSync.native, which is C's realpath()): that undoes ".." and
  //> follows symbolic links. When either fails, log an ERROR ("realpath() failed", the path, and
  //> fsReason(err)) and give null with the code: E_FAIL for the public
  //> folder (the server is misconfigured), fileErrorCode(err) for the file
  //> (a missing file is E_NOTFOUND). A file whose real path is not inside the
  //> real public folder on a path boundary (isInside) is refused: WARNING
  //> "file requested is outside of public directory" with both real paths,
  //> E_PERMISSION. Otherwise return the file's real path.
  let root: string;
  try {
    root = fs.realpathSync.native(publicDir);
  } catch (err) {
    logger("ERROR", "fileCreate()", `realpath() failed for the public folder ${publicDir}: ${fsReason(err)}`);
    return E_FAIL;
  }
  let real: string;
  try {
    real = fs.realpathSync.native(filePath);
  } catch (err) {
    logger("ERROR", "fileCreate()", `realpath() failed for ${filePath}: ${fsReason(err)}`);
    return fileErrorCode(err);
  }
  if (!isInside(real, root)) {
    logger("WARNING", "fileCreate()", `file requested is outside of public directory: ${filePath} is ${real}, which is not inside ${root}`);
    return E_PERMISSION;
  }
  return real;
  // @solution end
}

/** Open the file at `real` (a real path inside the public folder) if it may be served. */
function fileOpen(core: Core, real: string): FileResult {
  // @solution stage-12 begin 2: Check the file, open it, and make its source
  //> fs.statSync the real path (ERROR "stat() failed" and fileErrorCode on
  //> failure). Refuse what is not a regular file (WARNING, E_NOTFOUND) and a
  //> file whose mode lacks the others-read bit, fs.constants.S_IROTH
  //> (WARNING "others do not have read permission", E_PERMISSION). Then open
  //> it for reading (fs.openSync; ERROR "open() failed" and fileErrorCode).
  //> Make the XpsFile (nothing read yet, no read in flight), give it a pipe
  //> source owned by the file with fileSourceHandler and
  //> fileSourceCloseHandler, mark the source ready (the handler can start
  //> the first read), log "created file" at DEBUG level and return it with OK.
  let stat: fs.Stats;
  try {
    stat = fs.statSync(real);
  } catch (err) {
    logger("ERROR", "fileCreate()", `stat() failed for ${real}: ${fsReason(err)}`);
    return { file: null, error: fileErrorCode(err) };
  }
  if (!stat.isFile()) {
    logger("WARNING", "fileCreate()", `${real} is not a regular file`);
    return { file: null, error: E_NOTFOUND };
  }
  if ((stat.mode & fs.constants.S_IROTH) === 0) {
    logger("WARNING", "fileCreate()", `others do not have read permission on ${real} (mode ${(stat.mode & 0o777).toString(8)})`);
    return { file: null, error: E_PERMISSION };
  }
  let fd: number;
  try {
    fd = fs.openSync(real, "r");
  } catch (err) {
    logger("ERROR", "fileCreate()", `open() failed for ${real}: ${fsReason(err)}`);
    return { file: null, error: fileErrorCode(err) };
  }
  const file = {
    core,
    filePath: real,
    fd,
    size: stat.size,
    mimeType: getMime(real),
    position: 0,
    reading: false,
    chunk: null,
    eof: false,
    failure: null,
    destroyed: false,
  } as Omit<XpsFile, "source"> as XpsFile;
  file.source = pipeSourceCreate(file, fileSourceHandler, fileSourceCloseHandler);
  file.source.ready = true;
  logger("DEBUG", "fileCreate()", "created file");
  return { file, error: OK };
  // @solution end
}

/** Close the descriptor once (a read in flight must not find it closed, or reused). */
function closeFd(file: XpsFile): void {
  if (file.fd < 0) return;
  const fd = file.fd;
  file.fd = -1;
  try {
    fs.closeSync(fd);
  } catch (err) {
    logger("ERROR", "closeFd()", `close() failed for ${file.filePath}: ${fsReason(err)}`);
  }
}

/**
 * xps_file_destroy: the file leaves its pipe (the pipe rules then drain it
 * and tell its sink) and its descriptor is closed. Destroying twice does
 * nothing the second time.
 */
export function fileDestroy(file: XpsFile): void {
  // @solution stage-12 begin 5: Destroy the file
  //> fileDestroy: only once (the destroyed flag). Destroy the source (it
  //> leaves its pipe), drop a parked chunk, and close the descriptor with
  //> closeFd, unless a read is still in flight: then the read's callback
  //> closes it when it comes back (closing under a read could let the read
  //> land in another file that reused the number). Log "destroyed file
  //> struct" at DEBUG level.
  //> fileSourceCloseHandler runs when the pipe has lost its sink (the client
  //> left): nobody will take the file any more, so it is destroyed.
  if (file.destroyed) return;
  file.destroyed = true;
  pipeSourceDestroy(file.source);
  file.chunk = null;
  if (!file.reading) closeFd(file);
  logger("DEBUG", "fileDestroy()", "destroyed file struct");
  // @solution end
}

/** The source is ready and its pipe has room: hand over what the last read brought, and start the next read. */
function fileSourceHandler(source: PipeSource<XpsFile>): void {
  // @solution stage-12 begin 3: Read the file into the pipe
  //> A failed read (file.failure): log an ERROR and destroy the file. A
  //> parked chunk goes into the pipe (pipeSourceWrite; on failure, ERROR and
  //> destroy). After the end of the file (file.eof) the file is destroyed:
  //> that is the end of the stream. Otherwise start the next read, unless
  //> one is in flight or the pipe has no room left (then the source stays
  //> ready, and the pass calls again once there is room): fs.read into a
  //> new buffer of min(DEFAULT_BUFFER_SIZE, pipeRoom(pipe)) bytes at
  //> file.position, with fileReadDone as its callback. While it is in
  //> flight the source is not ready and file.reading is set.
  const file = source.ptr;
  const pipe = source.pipe;
  if (pipe === null) return;
  if (file.failure !== null) {
    logger("ERROR", "fileSourceHandler()", `read() failed for ${file.filePath}: ${fsReason(file.failure)}`);
    fileDestroy(file);
    return;
  }
  if (file.chunk !== null) {
    const chunk = file.chunk;
    file.chunk = null;
    if (pipeSourceWrite(source, chunk) !== OK) {
      logger("ERROR", "fileSourceHandler()", "pipeSourceWrite() failed");
      fileDestroy(file);
      return;
    }
  }
  if (file.eof) {
    fileDestroy(file);
    return;
  }
  const want = Math.min(DEFAULT_BUFFER_SIZE, pipeRoom(pipe));
  if (file.reading || want === 0) return;
  file.reading = true;
  source.ready = false;
  const buffer = Buffer.allocUnsafe(want);
  fs.read(file.fd, buffer, 0, want, file.position, (err, n) => fileReadDone(file, err, n, buffer));
  // @solution end
}

/** A read came back from the thread pool (its callback runs on the loop's thread, between passes). */
function fileReadDone(file: XpsFile, err: NodeJS.ErrnoException | null, n: number, buffer: Buffer): void {
  // @solution stage-12 begin 4: Take a finished read
  //> The read is no longer in flight. If the file was destroyed meanwhile,
  //> close the descriptor now (closeFd) and stop. Otherwise note what the
  //> read found: an error (file.failure), the end of the file (0 bytes:
  //> file.eof), or bytes (park buffer.subarray(0, n) in file.chunk and move
  //> file.position on). Then the source is ready again, and the loop must
  //> be told (loopSchedule): no socket event announces a finished read, so
  //> without a pass nobody would look.
  file.reading = false;
  if (file.destroyed) {
    closeFd(file);
    return;
  }
  if (err !== null) file.failure = err;
  else if (n === 0) file.eof = true;
  else {
    file.chunk = n === buffer.length ? buffer : buffer.subarray(0, n);
    file.position += n;
  }
  file.source.ready = true;
  loopSchedule(file.core.loop);
  // @solution end
}

/** The pipe lost its sink (the client left): nobody will take the rest of the file. */
function fileSourceCloseHandler(source: PipeSource<XpsFile>): void {
  // @solution stage-12 begin 5: Destroy the file
  fileDestroy(source.ptr);
  // @solution end
}
