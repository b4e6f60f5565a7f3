// The logger of the C course (xps_logger): one line per call,
//   [LEVEL] where : message
// coloured when stdout is a terminal. DEBUG lines appear only when the
// environment variable XPS_DEBUG is exactly "1" (checked on every call, so it
// can be flipped in a debugger). XPS_LOG=quiet keeps only WARNING and ERROR
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

export function debugEnabled(): boolean {
  return process.env.XPS_DEBUG === "1";
}

function quiet(): boolean {
  return process.env.XPS_LOG === "quiet";
}

/** Format one log line without printing it (plain text, no colour). */
export function formatLogLine(level: LogLevel, where: string, message: string): string {
  return `[${level}] ${where} : ${message}`;
}

export function logger(level: LogLevel, where: string, message: string, always = false): void {
  if (level === "DEBUG" && !debugEnabled()) return;
  if ((level === "INFO" || level === "HTTP") && !always && quiet()) return;
  const useColour = sink === stdoutSink && pc.isColorSupported && process.stdout.isTTY === true;
  const line = useColour
    ? `${BADGE[level](` ${level} `)} ${pc.green(where)} : ${message}`
    : formatLogLine(level, where, message);
  sink(line, level);
}
