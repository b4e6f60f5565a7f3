export async function exportCommand(_kind: string, _out: string, _opts: unknown): Promise<number> {
  return 0;
}
