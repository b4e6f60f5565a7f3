// The logger of the C course (xps_logger): one line per call,
//   [LEVEL] where : message
// coloured when stdout is a terminal. DEBUG lines appear only when the
// environment variable XPS_DEBUG is exactly "1". The C logger reads it on every
// call; reading process.env costs a system call's worth of time in Node, so it
// is read once at start-up (and again by readLogSettings()). XPS_LOG=quiet keeps only WARNING and ERROR
// lines (and the few INFO lines logged with `always`, such as where the server
// listens), which the benchmarks use so that logging does not dominate a profile.
import pc from "picocolors";

export type LogLevel = "ERROR" | "INFO" | "DEBUG" | "WARNING" | "HTTP";

const BADGE: Record<LogLevel, (s: string) => string> = {
  ERROR: (s) => pc.bold(pc.bgRed(s)),
  INFO: (s) => pc.bold(pc.bgBlue(s)),
  DEBUG: (s) => pc.bold(pc.magenta(s)),
  WARNING: (s) => pc.bold(pc.bgYellow(s)),
  HTTP: (s) => pc.bold(pc.bgGreen(s)),
};

export type LogSink = (line: string, level: LogLevel) => void;

const stdoutSink: LogSink = (line) => {
  process.stdout.write(line + "\n");
};

let sink: LogSink = stdoutSink;

/** Send log lines somewhere else (unit tests capture them); returns the previous sink. */
export function setLogSink(next: LogSink | null): LogSink {
  const previous = sink;
  sink = next ?? stdoutSink;
  return previous;
}

/** Collect log lines in `lines` instead of printing them, until restore(). */
export function captureLog(): { lines: string[]; restore: () => void } {
  const lines: string[] = [];
  const previous = setLogSink((line) => lines.push(line));
  return { lines, restore: () => void setLogSink(previous) };
}

let debug = false;
let quietMode = false;

/** Read XPS_DEBUG and XPS_LOG again (done once when this module loads). */
export function readLogSettings(env: NodeJS.ProcessEnv = process.env): void {
  debug = env.XPS_DEBUG === "1";
  quietMode = env.XPS_LOG === "quiet";
}
readLogSettings();

export function debugEnabled(): boolean {
  return debug;
}

/** Format one log line without printing it (plain text, no colour). */
export function formatLogLine(level: LogLevel, where: string, message: string): string {
  return `[${level}] ${where} : ${message}`;
}

export function logger(level: LogLevel, where: string, message: string, always = false): void {
  if (level === "DEBUG" && !debug) return;
  if ((level === "INFO" || level === "HTTP") && !always && quietMode) return;
  const useColour = sink === stdoutSink && pc.isColorSupported && process.stdout.isTTY === true;
  const line = useColour
    ? `${BADGE[level](` ${level} `)} ${pc.green(where)} : ${message}`
    : formatLogLine(level, where, message);
  sink(line, level);
}
