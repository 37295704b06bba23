/**
 * Disagreements between the type level and the runtime that the agreement tests found and that are
 * not fixed yet (the fixes belong to `types/**` and `runtime/ops/**`). The random run skips cases
 * that match one of these; each entry's pinned reproducer runs as an `it.fails` test, so the
 * entry must be deleted when its bug is fixed (the test then fails, saying so).
 */
import type { RuntimeAnswer } from "./shapeCases.js";
import type { TypeAnswer } from "./typeOracle.js";

export interface KnownIssue {
  readonly id: string;
  /** What is wrong and where. */
  readonly what: string;
  /** A minimal reproducer (a value expression). */
  readonly repro: string;
  /** Whether a disagreeing case is this issue. */
  readonly matches: (source: string, t: TypeAnswer, rt: RuntimeAnswer) => boolean;
}

const typeMessage = (t: TypeAnswer): string => (t.ok ? t.type : t.message);

// The four found so far (an index range printed as [-0, -1], two "..." items, cat of 0-d tensors,
// a pool padded by more than half its kernel) are fixed; new ones go here.
export const KNOWN_ISSUES: readonly KnownIssue[] = [];

/** The known issue a disagreeing case is, if any. */
export function knownIssue(source: string, t: TypeAnswer, rt: RuntimeAnswer): KnownIssue | undefined {
  return KNOWN_ISSUES.find((k) => k.matches(source, t, rt));
}
