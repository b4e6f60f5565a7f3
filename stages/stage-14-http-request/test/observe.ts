// The result of an in-process check, as one observation: with a testkit
// whose context has ensure() (in-process checks run in a probe and report
// what they observed), through it; otherwise a plain failure.
import type { MilestoneContext, Transcript } from "@xps/testkit";

type Ensure = (what: string, ok: boolean, failure?: Transcript | string) => void;

export function ensure(t: MilestoneContext, what: string, ok: boolean, failure: Transcript | string): void {
  const own = (t as MilestoneContext & { ensure?: Ensure }).ensure;
  if (own !== undefined) own.call(t, what, ok, failure);
  else if (!ok) t.fail(failure);
}
