// The MIME table built from mime-db, and the given helpers of the file
// module: the types the HTTP stages' tests need are the first claims of
// their extensions, and "inside the public folder" means on a path boundary.
import { expect, test } from "vitest";
import { E_FAIL, E_NOTFOUND, E_PERMISSION } from "@xps/utils";
import { MIME_TYPES } from "../src/mime-table.ts";
import { fileErrorCode, isInside } from "../src/file.ts";

const first = (ext: string): string | undefined => MIME_TYPES.find((r) => r.key === ext)?.val;

test("the first row of each extension the HTTP stages need has its type", () => {
  expect(MIME_TYPES.length).toBeGreaterThan(1000);
  const want: Record<string, string> = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".json": "application/json",
    ".pdf": "application/pdf",
    ".html": "text/html",
    ".htm": "text/html",
    ".txt": "text/plain",
    ".png": "image/png",
    ".js": "text/javascript",
    ".mp4": "video/mp4",
  };
  for (const [ext, type] of Object.entries(want)) expect(first(ext), ext).toBe(type);
  expect(MIME_TYPES.every((r) => r.key.startsWith(".") && r.val.includes("/"))).toBe(true);
});

test("inside a folder means below it on a path boundary", () => {
  expect(isInside("/srv/public/a.txt", "/srv/public")).toBe(true);
  expect(isInside("/srv/public/x/y", "/srv/public/")).toBe(true);
  expect(isInside("/srv/public-secret/a.txt", "/srv/public")).toBe(false);
  expect(isInside("/srv/public", "/srv/public")).toBe(false);
  expect(isInside("/etc/passwd", "/")).toBe(true);
});

test("file system errors map to permission, not found, or anything else", () => {
  const err = (code: string) => Object.assign(new Error(code), { code });
  expect(fileErrorCode(err("EACCES"))).toBe(E_PERMISSION);
  expect(fileErrorCode(err("EPERM"))).toBe(E_PERMISSION);
  expect(fileErrorCode(err("ENOENT"))).toBe(E_NOTFOUND);
  expect(fileErrorCode(err("ENOTDIR"))).toBe(E_NOTFOUND);
  expect(fileErrorCode(err("EIO"))).toBe(E_FAIL);
});
