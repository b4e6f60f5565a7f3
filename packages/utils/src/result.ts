// Result codes, as in xps.h. Functions that can fail return one of these
// (OK on success) instead of throwing, the way the C course does.

export const OK = 0;
/** Unrecoverable failure. */
export const E_FAIL = -1;
/** Nothing to do right now; try again when the loop says the socket is ready. */
export const E_AGAIN = -2;
/** Carry on with the next item (used by the HTTP parser, stage 14). */
export const E_NEXT = -3;
export const E_NOTFOUND = -4;
export const E_PERMISSION = -5;
/** The peer will send nothing more (recv() returned 0 in C). */
export const E_EOF = -6;

export type ResultCode =
  | typeof OK
  | typeof E_FAIL
  | typeof E_AGAIN
  | typeof E_NEXT
  | typeof E_NOTFOUND
  | typeof E_PERMISSION
  | typeof E_EOF;

const NAMES: Record<number, string> = {
  [OK]: "OK",
  [E_FAIL]: "E_FAIL",
  [E_AGAIN]: "E_AGAIN",
  [E_NEXT]: "E_NEXT",
  [E_NOTFOUND]: "E_NOTFOUND",
  [E_PERMISSION]: "E_PERMISSION",
  [E_EOF]: "E_EOF",
};

/** "E_FAIL" for -1 and so on; handy in log lines and test messages. */
export function resultName(code: number): string {
  return NAMES[code] ?? `unknown result ${code}`;
}
