// Stage 12, milestones 3, 6 and 8: the file module and the MIME lookup on
// their own, in-process. In the learner variant "@xps/disk/file" and
// "@xps/disk/mime" are your src/file.ts and src/mime.ts.
import fs from "node:fs";
import path from "node:path";
import { E_FAIL, E_NOTFOUND, E_PERMISSION, OK, captureLog, resultName } from "@xps/utils";
import { coreCreate, coreDestroy, type Core } from "@xps/core/core";
import { loopRun, loopSchedule } from "@xps/core/loop";
import { pipeCreate, pipeSinkClear, pipeSinkCreate, pipeSinkRead, type Pipe, type PipeSink } from "@xps/core/pipe";
import { fileCreate, fileDestroy, type XpsFile } from "@xps/disk/file";
import { getFileExt, getMime } from "@xps/disk/mime";
import { MIME_TYPES } from "@xps/disk/mime-table";
import { afterAll, afterEach, beforeEach, countBytes, defineStage, openCount, Pattern, sleep, type MilestoneContext } from "@xps/testkit";
import { MiB, removeScratch, scratch } from "./folders.ts";

const stage = defineStage(path.join(import.meta.dirname, ".."));
afterAll(removeScratch);

let log: ReturnType<typeof captureLog> | null = null;
let cores: Core[] = [];
beforeEach(() => {
  log = captureLog();
});
afterEach(() => {
  for (const core of cores.splice(0)) {
    try {
      coreDestroy(core);
    } catch {
      // a stub may throw here too
    }
  }
  log?.restore();
});

function newCore(): Core {
  const core = coreCreate();
  cores.push(core);
  return core;
}

// ------------------------------------------------------------------ M3

interface Reader {
  owner: { got: number; bad: number; closed: boolean };
  sink: PipeSink<Reader["owner"]>;
}

/** A pipe sink that reads nothing until it is told to, then checks every byte against `pattern`. */
function reader(pattern: Pattern): Reader {
  const owner = { got: 0, bad: -1, closed: false };
  const sink = pipeSinkCreate(
    owner,
    (end) => {
      for (;;) {
        const chunk = pipeSinkRead(end);
        if (chunk === null || chunk.length === 0) return;
        if (owner.bad < 0) {
          const m = pattern.mismatch(owner.got, chunk);
          if (m >= 0) owner.bad = owner.got + m;
        }
        owner.got += chunk.length;
        pipeSinkClear(end, chunk.length);
      }
    },
    () => {
      owner.closed = true;
    },
  );
  return { owner, sink };
}

stage.milestone(
  "m3",
  async (t: MilestoneContext) => {
    const size = 24 * MiB;
    const pattern = new Pattern(3);
    const s = scratch();
    const fd = fs.openSync(s.sample, "w", 0o644);
    for (let off = 0; off < size; off += 4 * MiB) fs.writeSync(fd, pattern.slice(off, 4 * MiB));
    fs.closeSync(fd);
    fs.chmodSync(s.sample, 0o644);
    const real = fs.realpathSync(s.sample);
    const core = newCore();
    loopRun(core.loop);
    const external = (): number => process.memoryUsage().arrayBuffers;
    const before = external();
    const { file, error } = fileCreate(core, s.sample, s.public);
    t.ensure("fileCreate", !(file === null), `fileCreate() of a readable sample.txt inside the public folder gave null (${resultName(error)})`);
    const { owner, sink } = reader(pattern);
    // A threshold that is not a whole number of reads, so a read that ignores the room shows.
    const threshold = 250_000;
    const pipe = pipeCreate(core, threshold, file.source, sink);
    t.ensure("pipeCreate", !(pipe === null), `pipeCreate(core, ${threshold}, file.source, sink) gave null`);
    // The sink reads nothing: the file may fill the pipe, and must stop there.
    let fullest = 0;
    for (let i = 0; i < 40; i++) {
      await sleep(25);
      fullest = Math.max(fullest, pipe.buffList.len);
    }
    const held = external() - before;
    if (fullest === 0) {
      t.fail({
        problem: "a file source in a pipe whose sink reads nothing put no byte at all into the pipe within 1 s",
        notes: ["the file's source starts ready; its handler starts a read, and when the read is done the loop must hear of it (loopSchedule)"],
        hint: "h3",
      });
    }
    t.ensure("the pipe held …, more than its threshold of …", !(fullest > threshold), `the pipe held ${countBytes(fullest)}, more than its threshold of ${countBytes(threshold)}: each read must ask for no more than pipeRoom(pipe)`);
    if (held > 4 * MiB) {
      t.fail(`with the pipe full and nobody reading, the process holds ${countBytes(held)} more in buffers than before the 24 MiB file was opened: the file must not be read ahead of its pipe`);
    }
    t.ensure("with nobody reading, the file filled its pipe only to … of … in 1 s", !(fullest < threshold / 2), `with nobody reading, the file filled its pipe only to ${countBytes(fullest)} of ${countBytes(threshold)} in 1 s: it should keep reading while the pipe has room`);
    // Now the sink reads: all of the file arrives, then the sink is told, once.
    sink.ready = true;
    loopSchedule(core.loop); // what a socket's 'drain' does for a connection's sink
    const deadline = Date.now() + 20_000;
    while (!owner.closed && Date.now() < deadline) await sleep(20);
    if (owner.got !== size || owner.bad >= 0) {
      t.fail(`the sink got ${countBytes(owner.got)} of the 24 MiB file${owner.bad >= 0 ? `, differing from it at byte ${owner.bad.toLocaleString("en-US")}` : ""}${owner.closed ? "" : ", and was never told the file had ended"}`);
    }
    t.ensure("the whole file arrived, but the sink was never told that its pipe lost its source", !(!owner.closed), "the whole file arrived, but the sink was never told that its pipe lost its source: at the end of the file, the file must be destroyed");
    t.ensure("after the end of the file its source is still in the pipe", !(file.source.pipe !== null), "after the end of the file its source is still in the pipe");
    t.ensure("after the end of the file its descriptor is still open", !(openCount(process.pid, real) !== 0), "after the end of the file its descriptor is still open");
  },
  { timeout: 60_000 },
);

// ------------------------------------------------------------------ M6

interface Tree {
  /** The public folder as the server is given it: a symbolic link to the real one. */
  public: string;
  realPublic: string;
  root: string;
}

/** A public folder reached through a symbolic link, with files of every kind in and around it. */
function tree(): Tree {
  const s = scratch();
  const realPublic = path.join(s.root, "real-public");
  fs.renameSync(s.public, realPublic);
  fs.symlinkSync(realPublic, s.public);
  const put = (file: string, text: string, mode = 0o644): void => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    fs.chmodSync(file, mode);
  };
  put(path.join(realPublic, "ok.txt"), "hello\n");
  put(path.join(realPublic, "secret.txt"), "for the owner and the group\n", 0o640);
  put(path.join(s.root, "outside.txt"), "outside\n");
  put(path.join(`${realPublic}-secret`, "x.txt"), "a look-alike folder\n");
  fs.mkdirSync(path.join(realPublic, "dir"));
  fs.symlinkSync(path.join(s.root, "outside.txt"), path.join(realPublic, "link-out"));
  fs.symlinkSync(path.join(`${realPublic}-secret`, "x.txt"), path.join(realPublic, "alike"));
  fs.symlinkSync("ok.txt", path.join(realPublic, "link-in.txt"));
  return { public: s.public, realPublic, root: s.root };
}

function expectRefused(t: MilestoneContext, what: string, got: { file: XpsFile | null; error: number }, code: number, line: RegExp): void {
  if (got.file !== null) {
    fileDestroy(got.file);
    t.fail(`fileCreate() of ${what} gave a file; it must be refused with ${resultName(code)}`);
  }
  t.ensure("fileCreate", !(got.error !== code), `fileCreate() of ${what} was refused with ${resultName(got.error)}; it should be ${resultName(code)}`);
  t.ensure("fileCreate", !(!log!.lines.some((l) => line.test(l))), `fileCreate() of ${what} was refused, but logged no line matching ${line} (it logged: ${JSON.stringify(log!.lines.slice(-3))})`);
}

stage.check("m6", "a readable file inside public/, reached through a link to the folder", (t: MilestoneContext) => {
  const tr = tree();
  const core = newCore();
  const got = fileCreate(core, path.join(tr.public, "ok.txt"), tr.public);
  t.ensure("fileCreate", !(got.file === null), `fileCreate() of public/ok.txt (inside the folder, mode 644) was refused with ${resultName(got.error)}; the public folder itself is a symbolic link here, so compare real paths on both sides`);
  const { file } = got;
  t.ensure("fileCreate", !((got.error as number) !== OK), `fileCreate() gave a file but error ${resultName(got.error as number)}, not OK`);
  t.ensure("file.size is …", !(file.size !== 6), `file.size is ${file.size}; ok.txt holds 6 bytes`);
  t.ensure("file.mimeType is …", !(file.mimeType !== "text/plain"), `file.mimeType is ${JSON.stringify(file.mimeType)}; a .txt file is text/plain`);
  t.ensure("a new file's source must be ready", !(!file.source.ready), "a new file's source must be ready: its handler can start the first read");
  t.ensure("the file's source must belong to the file", !(file.source.ptr !== file), "the file's source must belong to the file (ptr)");
  const real = fs.realpathSync(path.join(tr.realPublic, "ok.txt"));
  t.ensure("fileCreate", !(openCount(process.pid, real) !== 1), "fileCreate() should leave the file open once");
  fileDestroy(file);
  t.ensure("fileDestroy", !(openCount(process.pid, real) !== 0), "fileDestroy() did not close the file's descriptor");
  fileDestroy(file); // twice: nothing happens the second time
  const inner = fileCreate(core, path.join(tr.public, "link-in.txt"), tr.public);
  t.ensure("a symbolic link inside public/ to a file inside public/ was refused", !(inner.file === null), `a symbolic link inside public/ to a file inside public/ was refused (${resultName(inner.error)})`);
  fileDestroy(inner.file);
});

stage.check("m6", "paths that lead outside public/: .., a link out, a look-alike folder", (t: MilestoneContext) => {
  const tr = tree();
  const core = newCore();
  const outside = /^\[WARNING\].*outside/i;
  expectRefused(t, "public/../outside.txt", fileCreate(core, path.join(tr.public, "..", "outside.txt"), tr.public), E_PERMISSION, outside);
  expectRefused(t, "public/link-out (a link to a file outside)", fileCreate(core, path.join(tr.public, "link-out"), tr.public), E_PERMISSION, outside);
  expectRefused(t, "public/alike (a link into public-secret/, which only begins like public/)", fileCreate(core, path.join(tr.public, "alike"), tr.public), E_PERMISSION, outside);
});

stage.check("m6", "a file others may not read, a missing file, a missing public folder, a folder", (t: MilestoneContext) => {
  const tr = tree();
  const core = newCore();
  expectRefused(t, "public/secret.txt (mode 640)", fileCreate(core, path.join(tr.public, "secret.txt"), tr.public), E_PERMISSION, /^\[WARNING\].*(others|permission)/i);
  expectRefused(t, "public/missing.txt (no such file)", fileCreate(core, path.join(tr.public, "missing.txt"), tr.public), E_NOTFOUND, /^\[(ERROR|WARNING)\].*(ENOENT|no such file)/i);
  expectRefused(t, "a file of a public folder that does not exist", fileCreate(core, path.join(tr.root, "nowhere", "ok.txt"), path.join(tr.root, "nowhere")), E_FAIL, /^\[ERROR\]/);
  const dir = fileCreate(core, path.join(tr.public, "dir"), tr.public);
  if (dir.file !== null) {
    fileDestroy(dir.file);
    t.fail("fileCreate() of a folder inside public/ gave a file; only regular files can be served");
  }
});

// ------------------------------------------------------------------ M8

stage.check("m8", "the types the HTTP stages need", (t: MilestoneContext) => {
  const want: [string, string][] = [
    ["public/cat.jpg", "image/jpeg"],
    ["photo.jpeg", "image/jpeg"],
    ["data/config.json", "application/json"],
    ["../public/sample.pdf", "application/pdf"],
    ["index.html", "text/html"],
    ["old/page.htm", "text/html"],
    ["public/sample.txt", "text/plain"],
    ["logo.png", "image/png"],
    ["style.css", "text/css"],
    ["archive.tar.gz", "application/gzip"],
  ];
  for (const [file, type] of want) {
    const got = getMime(file);
    t.ensure("getMime", !(got !== type), `getMime(${JSON.stringify(file)}) gave ${JSON.stringify(got)}; it should be ${JSON.stringify(type)}`);
  }
});

stage.check("m8", "getFileExt: the last dot, after the last slash, dot included", (t: MilestoneContext) => {
  const want: [string, string | null][] = [
    ["a/b.txt", ".txt"],
    ["a/b.tar.gz", ".gz"],
    ["README", null],
    ["a.d/README", null],
    ["public/.txt", ".txt"],
    ["file.", "."],
    ["/srv/www/INDEX.HTML", ".HTML"],
  ];
  for (const [file, ext] of want) {
    const got = getFileExt(file);
    t.ensure("getFileExt", !(got !== ext), `getFileExt(${JSON.stringify(file)}) gave ${JSON.stringify(got)}; it should be ${JSON.stringify(ext)}`);
  }
});

stage.check("m8", "the first exact match in the table, and no match", (t: MilestoneContext) => {
  // Extensions the table holds more than once: the first row wins.
  const firsts = new Map<string, string>();
  const seen = new Map<string, number>();
  for (const row of MIME_TYPES) {
    if (!firsts.has(row.key)) firsts.set(row.key, row.val);
    seen.set(row.key, (seen.get(row.key) ?? 0) + 1);
  }
  const twice = [...seen].filter(([, n]) => n > 1).map(([k]) => k);
  t.ensure("the table has no extension twice", !(twice.length === 0), "the table has no extension twice (the test needs one)");
  for (const ext of twice) {
    const got = getMime(`some/file${ext}`);
    t.ensure("getMime", !(got !== firsts.get(ext)), `getMime("some/file${ext}") gave ${JSON.stringify(got)}; the first row for ${ext} says ${JSON.stringify(firsts.get(ext))}`);
  }
  const none: string[] = ["README", "a.d/README", "x.nosuchextension", "x.j", "x.TXT", "photo.JPG", "x.", "txt"];
  for (const file of none) {
    const got = getMime(file);
    t.ensure("getMime", !(got !== null), `getMime(${JSON.stringify(file)}) gave ${JSON.stringify(got)}; it should be null (the match is exact, capitals included, and needs an extension)`);
  }
});
