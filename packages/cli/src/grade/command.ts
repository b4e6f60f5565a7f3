export async function gradeCommand(_opts: unknown): Promise<number> {
  return 0;
}
