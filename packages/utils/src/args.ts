// Command-line arguments of a script run through pnpm.

/**
 * process.argv without node and the script. pnpm 12 passes a literal "--"
 * through (`pnpm start -- --ports ...`); it separates nothing here, so a
 * leading one is dropped.
 */
export function scriptArgs(argv: string[] = process.argv): string[] {
  const args = argv.slice(2);
  return args[0] === "--" ? args.slice(1) : args;
}
