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

export const KNOWN_ISSUES: readonly KnownIssue[] = [
  {
    id: "index-range-minus-zero",
    what:
      "An index into a dim of size 0: the type level prints the range as [-0, -1] (`-${N}` in " +
      "types/indexing.ts CheckIndexLit, also SelectCheck), the runtime as [0, -1].",
    repro: "torch.zeros([0, 3]).index(0)",
    matches: (_s, t, rt) => !rt.ok && typeMessage(t).includes("[-0, ") && typeMessage(t).replace("[-0, ", "[0, ") === rt.message,
  },
  {
    id: "index-two-ellipses",
    what:
      'x.index("...", "...") passes the type level (types/indexing.ts IndexShape); the runtime throws ' +
      'ValueError `index: at most one "..." is allowed, got 2` (runtime/ops/indexing.ts).',
    repro: 'torch.zeros([2, 3]).index("...", "...")',
    matches: (_s, _t, rt) => !rt.ok && rt.message.startsWith('index: at most one "..." is allowed'),
  },
  {
    id: "cat-zero-dim",
    what:
      "torch.cat of 0-d tensors: the type level gives [] (types/join.ts CatShape), the runtime twin " +
      "catShape (types/join.ts) normalises dim against rank 0 and throws a ShapeError about `[NaN]`; " +
      'PyTorch: "zero-dimensional tensor (at position 0) cannot be concatenated".',
    repro: "torch.cat([torch.zeros([]), torch.zeros([])], 0)",
    matches: (s, _t, rt) => s.includes("torch.cat(") && !rt.ok && rt.message.includes("[NaN]"),
  },
  {
    id: "pool-padding-over-half-kernel",
    what:
      "MaxPool2d with padding > kernel/2: the type level (types/layers.ts Pool2dShape, types/conv.ts " +
      "PoolOutSize) accepts it, the runtime throws ValueError `maxPool2d: padding must be at most half " +
      "the kernel size` (runtime/ops/pool.ts), naming the functional op, not the layer.",
    repro: "nn.MaxPool2d(2, 2, { padding: 2 })(torch.zeros([1, 1, 4, 4]))",
    matches: (_s, _t, rt) => !rt.ok && / padding must be at most half the kernel size/.test(rt.message),
  },
];

/** The known issue a disagreeing case is, if any. */
export function knownIssue(source: string, t: TypeAnswer, rt: RuntimeAnswer): KnownIssue | undefined {
  return KNOWN_ISSUES.find((k) => k.matches(source, t, rt));
}
