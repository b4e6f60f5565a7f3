// The mistakes catalogue of a stage (stages/<stage>/mistakes.ts): wrong
// solutions that learners write, each one a small, named change of the
// solved learner file, and the milestone that must catch it. verify applies
// each one to the solved file and runs only its milestone: the milestone must
// fail, and its report must name the hint declared here. So a requirement of
// a TODO that no test enforces shows up as a mistake nobody catches.
//
// Every TODO also gets one entry without writing it: "left as the stub",
// its region untouched from the skeleton.

export interface Edit {
  /** Text of the solved learner file that the mistake changes: it must occur exactly once. */
  find: string;
  /** What the learner wrote instead. */
  replace: string;
}

export interface Mistake {
  /** A short name: "close-on-eof". */
  id: string;
  /** The TODO the mistake gets wrong. */
  todo: number;
  /** The learner file it is made in: "connection.ts". */
  file: string;
  /** The mistake, as a learner makes it (and what it breaks). */
  what: string;
  edits: Edit[];
  /** The milestone that must catch it ("m6"). */
  caughtBy: string;
  /** The hint its failure report must name ("h6"). */
  hint: string;
  /**
   * For a milestone made of several checks (stage.check), the one that catches it, by name
   * ("an end is attached to one pipe at a time"): the catalogue runs only that check for it.
   */
  check?: string;
}

/** An entry for a TODO left as the skeleton has it (its stub, which throws). */
export interface StubEntry {
  id: string;
  todo: number;
  stub: true;
  caughtBy: string;
  hint: string;
  check?: string;
}

export type Entry = (Mistake & { stub?: undefined }) | StubEntry;

/** Type-checks a catalogue; `export const mistakes = catalogue([...])` in a stage's mistakes.ts. */
export function catalogue(list: Entry[]): Entry[] {
  return list;
}
