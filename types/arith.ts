/**
 * Digit-wise arithmetic on numeric literal types.
 *
 * Every shape rule that computes a dim (Flatten products, reshape with -1, conv/pool output sizes,
 * negative dim normalisation) uses these. Numbers are turned into their decimal strings
 * (`${N}`), worked on digit by digit with lookup tables for single-digit sums, differences,
 * products and comparisons, and turned back with `` `${infer N extends number}` ``. Nothing counts
 * tuple lengths, so results are exact over the whole safe-integer range: a few hundred
 * instantiations for typical dims (`Add` of two 3-digit numbers ~350, `Product<[512, 7, 7]>` ~700),
 * ~6,000 for `Mul` of two 8-digit numbers, ~17,000 at worst (`Div` of 16 digits by 8).
 *
 * Rules shared by every export:
 * - an operand that is `number`, `any`, a union, a non-integer (2.5) or beyond ±2^53 - 1
 *   (`Number.MAX_SAFE_INTEGER`, including exponent forms such as `1e+21`) makes the result
 *   `number` (`boolean` for the comparisons);
 * - a result beyond ±2^53 - 1 degrades to `number`, never to a wrong value or an error;
 * - a `never` operand gives `never`;
 * - a generic operand (`B extends number` inside a generic function) leaves the type deferred; it
 *   still counts as a `number` (or `boolean`) wherever one is required.
 *
 * Internally a value is its canonical signed decimal string ("0", "42", "-7"); a magnitude is an
 * unsigned one. Loops are tail-recursive and walk at most ~35 digits.
 */

/** A decimal digit character. */
type Digit = "0" | "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9";
/** A carry or borrow: "0" or "1". */
type Bit = "0" | "1";
/** The outcome of comparing two magnitudes. */
type Order = "<" | "=" | ">";
/** `Number.MAX_SAFE_INTEGER` as digits. */
type MaxSafe = "9007199254740991";

// ---------------------------------------------------------------------------------------------
// Lookup tables (generated: AddT[c][a][b] = digit and carry of a + b + c; SubT[c][a][b] = digit
// and borrow of a - b - c; MulT[a][b] = units and tens of a * b; CmpT[a][b] = order of a and b).
// Tuples indexed by digit characters ("0".."9" are tuple keys).
// ---------------------------------------------------------------------------------------------

type AddT = [
  [
    [["0", "0"], ["1", "0"], ["2", "0"], ["3", "0"], ["4", "0"], ["5", "0"], ["6", "0"], ["7", "0"], ["8", "0"], ["9", "0"]],
    [["1", "0"], ["2", "0"], ["3", "0"], ["4", "0"], ["5", "0"], ["6", "0"], ["7", "0"], ["8", "0"], ["9", "0"], ["0", "1"]],
    [["2", "0"], ["3", "0"], ["4", "0"], ["5", "0"], ["6", "0"], ["7", "0"], ["8", "0"], ["9", "0"], ["0", "1"], ["1", "1"]],
    [["3", "0"], ["4", "0"], ["5", "0"], ["6", "0"], ["7", "0"], ["8", "0"], ["9", "0"], ["0", "1"], ["1", "1"], ["2", "1"]],
    [["4", "0"], ["5", "0"], ["6", "0"], ["7", "0"], ["8", "0"], ["9", "0"], ["0", "1"], ["1", "1"], ["2", "1"], ["3", "1"]],
    [["5", "0"], ["6", "0"], ["7", "0"], ["8", "0"], ["9", "0"], ["0", "1"], ["1", "1"], ["2", "1"], ["3", "1"], ["4", "1"]],
    [["6", "0"], ["7", "0"], ["8", "0"], ["9", "0"], ["0", "1"], ["1", "1"], ["2", "1"], ["3", "1"], ["4", "1"], ["5", "1"]],
    [["7", "0"], ["8", "0"], ["9", "0"], ["0", "1"], ["1", "1"], ["2", "1"], ["3", "1"], ["4", "1"], ["5", "1"], ["6", "1"]],
    [["8", "0"], ["9", "0"], ["0", "1"], ["1", "1"], ["2", "1"], ["3", "1"], ["4", "1"], ["5", "1"], ["6", "1"], ["7", "1"]],
    [["9", "0"], ["0", "1"], ["1", "1"], ["2", "1"], ["3", "1"], ["4", "1"], ["5", "1"], ["6", "1"], ["7", "1"], ["8", "1"]],
  ],
  [
    [["1", "0"], ["2", "0"], ["3", "0"], ["4", "0"], ["5", "0"], ["6", "0"], ["7", "0"], ["8", "0"], ["9", "0"], ["0", "1"]],
    [["2", "0"], ["3", "0"], ["4", "0"], ["5", "0"], ["6", "0"], ["7", "0"], ["8", "0"], ["9", "0"], ["0", "1"], ["1", "1"]],
    [["3", "0"], ["4", "0"], ["5", "0"], ["6", "0"], ["7", "0"], ["8", "0"], ["9", "0"], ["0", "1"], ["1", "1"], ["2", "1"]],
    [["4", "0"], ["5", "0"], ["6", "0"], ["7", "0"], ["8", "0"], ["9", "0"], ["0", "1"], ["1", "1"], ["2", "1"], ["3", "1"]],
    [["5", "0"], ["6", "0"], ["7", "0"], ["8", "0"], ["9", "0"], ["0", "1"], ["1", "1"], ["2", "1"], ["3", "1"], ["4", "1"]],
    [["6", "0"], ["7", "0"], ["8", "0"], ["9", "0"], ["0", "1"], ["1", "1"], ["2", "1"], ["3", "1"], ["4", "1"], ["5", "1"]],
    [["7", "0"], ["8", "0"], ["9", "0"], ["0", "1"], ["1", "1"], ["2", "1"], ["3", "1"], ["4", "1"], ["5", "1"], ["6", "1"]],
    [["8", "0"], ["9", "0"], ["0", "1"], ["1", "1"], ["2", "1"], ["3", "1"], ["4", "1"], ["5", "1"], ["6", "1"], ["7", "1"]],
    [["9", "0"], ["0", "1"], ["1", "1"], ["2", "1"], ["3", "1"], ["4", "1"], ["5", "1"], ["6", "1"], ["7", "1"], ["8", "1"]],
    [["0", "1"], ["1", "1"], ["2", "1"], ["3", "1"], ["4", "1"], ["5", "1"], ["6", "1"], ["7", "1"], ["8", "1"], ["9", "1"]],
  ],
];
type SubT = [
  [
    [["0", "0"], ["9", "1"], ["8", "1"], ["7", "1"], ["6", "1"], ["5", "1"], ["4", "1"], ["3", "1"], ["2", "1"], ["1", "1"]],
    [["1", "0"], ["0", "0"], ["9", "1"], ["8", "1"], ["7", "1"], ["6", "1"], ["5", "1"], ["4", "1"], ["3", "1"], ["2", "1"]],
    [["2", "0"], ["1", "0"], ["0", "0"], ["9", "1"], ["8", "1"], ["7", "1"], ["6", "1"], ["5", "1"], ["4", "1"], ["3", "1"]],
    [["3", "0"], ["2", "0"], ["1", "0"], ["0", "0"], ["9", "1"], ["8", "1"], ["7", "1"], ["6", "1"], ["5", "1"], ["4", "1"]],
    [["4", "0"], ["3", "0"], ["2", "0"], ["1", "0"], ["0", "0"], ["9", "1"], ["8", "1"], ["7", "1"], ["6", "1"], ["5", "1"]],
    [["5", "0"], ["4", "0"], ["3", "0"], ["2", "0"], ["1", "0"], ["0", "0"], ["9", "1"], ["8", "1"], ["7", "1"], ["6", "1"]],
    [["6", "0"], ["5", "0"], ["4", "0"], ["3", "0"], ["2", "0"], ["1", "0"], ["0", "0"], ["9", "1"], ["8", "1"], ["7", "1"]],
    [["7", "0"], ["6", "0"], ["5", "0"], ["4", "0"], ["3", "0"], ["2", "0"], ["1", "0"], ["0", "0"], ["9", "1"], ["8", "1"]],
    [["8", "0"], ["7", "0"], ["6", "0"], ["5", "0"], ["4", "0"], ["3", "0"], ["2", "0"], ["1", "0"], ["0", "0"], ["9", "1"]],
    [["9", "0"], ["8", "0"], ["7", "0"], ["6", "0"], ["5", "0"], ["4", "0"], ["3", "0"], ["2", "0"], ["1", "0"], ["0", "0"]],
  ],
  [
    [["9", "1"], ["8", "1"], ["7", "1"], ["6", "1"], ["5", "1"], ["4", "1"], ["3", "1"], ["2", "1"], ["1", "1"], ["0", "1"]],
    [["0", "0"], ["9", "1"], ["8", "1"], ["7", "1"], ["6", "1"], ["5", "1"], ["4", "1"], ["3", "1"], ["2", "1"], ["1", "1"]],
    [["1", "0"], ["0", "0"], ["9", "1"], ["8", "1"], ["7", "1"], ["6", "1"], ["5", "1"], ["4", "1"], ["3", "1"], ["2", "1"]],
    [["2", "0"], ["1", "0"], ["0", "0"], ["9", "1"], ["8", "1"], ["7", "1"], ["6", "1"], ["5", "1"], ["4", "1"], ["3", "1"]],
    [["3", "0"], ["2", "0"], ["1", "0"], ["0", "0"], ["9", "1"], ["8", "1"], ["7", "1"], ["6", "1"], ["5", "1"], ["4", "1"]],
    [["4", "0"], ["3", "0"], ["2", "0"], ["1", "0"], ["0", "0"], ["9", "1"], ["8", "1"], ["7", "1"], ["6", "1"], ["5", "1"]],
    [["5", "0"], ["4", "0"], ["3", "0"], ["2", "0"], ["1", "0"], ["0", "0"], ["9", "1"], ["8", "1"], ["7", "1"], ["6", "1"]],
    [["6", "0"], ["5", "0"], ["4", "0"], ["3", "0"], ["2", "0"], ["1", "0"], ["0", "0"], ["9", "1"], ["8", "1"], ["7", "1"]],
    [["7", "0"], ["6", "0"], ["5", "0"], ["4", "0"], ["3", "0"], ["2", "0"], ["1", "0"], ["0", "0"], ["9", "1"], ["8", "1"]],
    [["8", "0"], ["7", "0"], ["6", "0"], ["5", "0"], ["4", "0"], ["3", "0"], ["2", "0"], ["1", "0"], ["0", "0"], ["9", "1"]],
  ],
];
type MulT = [
  [["0", "0"], ["0", "0"], ["0", "0"], ["0", "0"], ["0", "0"], ["0", "0"], ["0", "0"], ["0", "0"], ["0", "0"], ["0", "0"]],
  [["0", "0"], ["1", "0"], ["2", "0"], ["3", "0"], ["4", "0"], ["5", "0"], ["6", "0"], ["7", "0"], ["8", "0"], ["9", "0"]],
  [["0", "0"], ["2", "0"], ["4", "0"], ["6", "0"], ["8", "0"], ["0", "1"], ["2", "1"], ["4", "1"], ["6", "1"], ["8", "1"]],
  [["0", "0"], ["3", "0"], ["6", "0"], ["9", "0"], ["2", "1"], ["5", "1"], ["8", "1"], ["1", "2"], ["4", "2"], ["7", "2"]],
  [["0", "0"], ["4", "0"], ["8", "0"], ["2", "1"], ["6", "1"], ["0", "2"], ["4", "2"], ["8", "2"], ["2", "3"], ["6", "3"]],
  [["0", "0"], ["5", "0"], ["0", "1"], ["5", "1"], ["0", "2"], ["5", "2"], ["0", "3"], ["5", "3"], ["0", "4"], ["5", "4"]],
  [["0", "0"], ["6", "0"], ["2", "1"], ["8", "1"], ["4", "2"], ["0", "3"], ["6", "3"], ["2", "4"], ["8", "4"], ["4", "5"]],
  [["0", "0"], ["7", "0"], ["4", "1"], ["1", "2"], ["8", "2"], ["5", "3"], ["2", "4"], ["9", "4"], ["6", "5"], ["3", "6"]],
  [["0", "0"], ["8", "0"], ["6", "1"], ["4", "2"], ["2", "3"], ["0", "4"], ["8", "4"], ["6", "5"], ["4", "6"], ["2", "7"]],
  [["0", "0"], ["9", "0"], ["8", "1"], ["7", "2"], ["6", "3"], ["5", "4"], ["4", "5"], ["3", "6"], ["2", "7"], ["1", "8"]],
];
type CmpT = [
  ["=", "<", "<", "<", "<", "<", "<", "<", "<", "<"],
  [">", "=", "<", "<", "<", "<", "<", "<", "<", "<"],
  [">", ">", "=", "<", "<", "<", "<", "<", "<", "<"],
  [">", ">", ">", "=", "<", "<", "<", "<", "<", "<"],
  [">", ">", ">", ">", "=", "<", "<", "<", "<", "<"],
  [">", ">", ">", ">", ">", "=", "<", "<", "<", "<"],
  [">", ">", ">", ">", ">", ">", "=", "<", "<", "<"],
  [">", ">", ">", ">", ">", ">", ">", "=", "<", "<"],
  [">", ">", ">", ">", ">", ">", ">", ">", "=", "<"],
  [">", ">", ">", ">", ">", ">", ">", ">", ">", "="],
];

// ---------------------------------------------------------------------------------------------
// Unsigned digit-string operations. "R" strings are reversed (least significant digit first).
// ---------------------------------------------------------------------------------------------

/** Reverses a digit string, four characters a step. */
type Rev<S extends string, Acc extends string = ""> =
  S extends `${infer A}${infer B}${infer C}${infer D}${infer T}`
    ? Rev<T, `${D}${C}${B}${A}${Acc}`>
    : S extends `${infer A}${infer B}${infer C}` // 2 or 3 characters left (C may be "")
      ? `${C}${B}${A}${Acc}`
      : `${S}${Acc}`;

/** Sum of two reversed magnitudes, in normal order. */
type AddRN<A extends string, B extends string, C extends Bit = "0", Acc extends string = ""> =
  A extends `${infer a extends Digit}${infer A2}`
    ? B extends `${infer b extends Digit}${infer B2}`
      ? AddRN<A2, B2, AddT[C][a][b][1], `${AddT[C][a][b][0]}${Acc}`>
      : C extends "0"
        ? `${Rev<A>}${Acc}`
        : AddRN<A2, "", AddT[C][a]["0"][1], `${AddT[C][a]["0"][0]}${Acc}`>
    : B extends `${infer b extends Digit}${infer B2}`
      ? C extends "0"
        ? `${Rev<B>}${Acc}`
        : AddRN<"", B2, AddT[C]["0"][b][1], `${AddT[C]["0"][b][0]}${Acc}`>
      : C extends "1"
        ? `1${Acc}`
        : Acc;

/** Sum of two reversed magnitudes, reversed. */
type AddRR<A extends string, B extends string, C extends Bit = "0", Acc extends string = ""> =
  A extends `${infer a extends Digit}${infer A2}`
    ? B extends `${infer b extends Digit}${infer B2}`
      ? AddRR<A2, B2, AddT[C][a][b][1], `${Acc}${AddT[C][a][b][0]}`>
      : C extends "0"
        ? `${Acc}${A}`
        : AddRR<A2, "", AddT[C][a]["0"][1], `${Acc}${AddT[C][a]["0"][0]}`>
    : B extends `${infer b extends Digit}${infer B2}`
      ? C extends "0"
        ? `${Acc}${B}`
        : AddRR<"", B2, AddT[C]["0"][b][1], `${Acc}${AddT[C]["0"][b][0]}`>
      : C extends "1"
        ? `${Acc}1`
        : Acc;

/**
 * Difference A - B (A >= B) of two reversed magnitudes, in normal order. Zero digits wait in `Z`
 * until a non-zero digit follows, so the result has no leading zeros.
 */
type SubRN<
  A extends string,
  B extends string,
  C extends Bit = "0",
  Acc extends string = "",
  Z extends string = "",
> = A extends `${infer a extends Digit}${infer A2}`
  ? (
      B extends `${infer b extends Digit}${infer B2}` ? [SubT[C][a][b], B2] : [SubT[C][a]["0"], ""]
    ) extends [[infer d extends string, infer c extends Bit], infer B3 extends string]
    ? d extends "0"
      ? SubRN<A2, B3, c, Acc, `0${Z}`>
      : SubRN<A2, B3, c, `${d}${Z}${Acc}`, "">
    : never
  : Acc extends ""
    ? "0"
    : Acc;

/** Compares two magnitudes (normal order): the first differing digit decides, then the length. */
type UCmp<A extends string, B extends string, First extends Order = "="> =
  A extends `${infer a extends Digit}${infer A2}`
    ? B extends `${infer b extends Digit}${infer B2}`
      ? UCmp<A2, B2, First extends "=" ? CmpT[a][b] : First>
      : ">"
    : B extends ""
      ? First
      : "<";

/** Sum of two magnitudes. */
type UAdd<A extends string, B extends string> = AddRN<Rev<A>, Rev<B>>;

/** Difference of two magnitudes, A >= B. */
type USub<A extends string, B extends string> = SubRN<Rev<A>, Rev<B>>;

/** A reversed magnitude times one digit, reversed. */
type MulDigitRR<A extends string, D extends Digit, C extends Digit = "0", Acc extends string = ""> =
  A extends `${infer a extends Digit}${infer A2}`
    ? [MulT[a][D], C] extends [[infer u extends Digit, infer t extends Digit], infer c extends Digit]
      ? AddT["0"][u][c] extends [infer s extends Digit, infer c1 extends Bit]
        ? MulDigitRR<A2, D, AddT[c1][t]["0"][0], `${Acc}${s}`>
        : never
      : never
    : C extends "0"
      ? Acc
      : `${Acc}${C}`;

/** A reversed magnitude times one digit, in normal order. */
type MulDigitRN<A extends string, D extends Digit, C extends Digit = "0", Acc extends string = ""> =
  A extends `${infer a extends Digit}${infer A2}`
    ? [MulT[a][D], C] extends [[infer u extends Digit, infer t extends Digit], infer c extends Digit]
      ? AddT["0"][u][c] extends [infer s extends Digit, infer c1 extends Bit]
        ? MulDigitRN<A2, D, AddT[c1][t]["0"][0], `${s}${Acc}`>
        : never
      : never
    : C extends "0"
      ? Acc
      : `${C}${Acc}`;

/** Long multiplication: reversed A times B's digits from the most significant; reversed. */
type MulLoop<RA extends string, B extends string, Acc extends string = "0"> =
  B extends `${infer d extends Digit}${infer B2}`
    ? MulLoop<
        RA,
        B2,
        d extends "0"
          ? Acc extends "0" ? "0" : `0${Acc}`
          : AddRR<Acc extends "0" ? "" : `0${Acc}`, d extends "1" ? RA : MulDigitRR<RA, d>>
      >
    : Acc;

/** True when magnitude A has fewer digits than B. */
type Shorter<A extends string, B extends string> =
  A extends `${string}${infer A2}`
    ? B extends `${string}${infer B2}`
      ? Shorter<A2, B2>
      : false
    : B extends ""
      ? false
      : true;

/** A magnitude beyond 2^53 - 1 that stands for any product too large to compute. */
type TooBig = "99999999999999999";

/**
 * Product of two magnitudes; the shorter one is the multiplier; 0, 1 and single digits are fast.
 * Operands with 18 or more digits between them give {@link TooBig} (the product is >= 10^16).
 */
type UMul<A extends string, B extends string> = A extends "0"
  ? "0"
  : B extends "0"
    ? "0"
    : A extends "1"
      ? B
      : B extends "1"
        ? A
        : B extends Digit
          ? MulDigitRN<Rev<A>, B>
          : A extends Digit
            ? MulDigitRN<Rev<B>, A>
            : `${A}${B}` extends `${infer _0}${infer _1}${infer _2}${infer _3}${infer _4}${infer _5}${infer _6}${infer _7}${infer _8}${infer _9}${infer _a}${infer _b}${infer _c}${infer _d}${infer _e}${infer _f}${infer _g}${infer _h}${string}`
              ? TooBig // 18+ digits between them (each `infer` takes one character)
              : Shorter<A, B> extends true
                ? Rev<MulLoop<Rev<B>, A>>
                : Rev<MulLoop<Rev<A>, B>>;

/** K * B for a magnitude B and a digit K > 0 (instantiations are cached per B and K). */
type Mult<B extends string, K extends Digit> = MulDigitRN<Rev<B>, K>;

/** M <= R for magnitudes. */
type LeU<M extends string, R extends string> = UCmp<M, R> extends ">" ? false : true;

/** The largest k in 0..9 with k * B <= R: one comparison for 0, then a binary search. */
type QDigit<R extends string, B extends string> =
  UCmp<B, R> extends ">"
    ? "0"
    : LeU<Mult<B, "5">, R> extends true
      ? LeU<Mult<B, "7">, R> extends true
        ? LeU<Mult<B, "8">, R> extends true
          ? LeU<Mult<B, "9">, R> extends true
            ? "9"
            : "8"
          : "7"
        : LeU<Mult<B, "6">, R> extends true
          ? "6"
          : "5"
      : LeU<Mult<B, "3">, R> extends true
        ? LeU<Mult<B, "4">, R> extends true
          ? "4"
          : "3"
        : LeU<Mult<B, "2">, R> extends true
          ? "2"
          : "1";

/** Long division of the digits A (most significant first): [quotient, remainder]. */
type DivLoop<A extends string, B extends string, Q extends string = "", R extends string = "0"> =
  A extends `${infer d extends Digit}${infer A2}`
    ? (R extends "0" ? d : `${R}${d}`) extends infer R2 extends string
      ? QDigit<R2, B> extends infer k extends Digit
        ? k extends "0"
          ? DivLoop<A2, B, Q extends "" ? "" : `${Q}0`, R2>
          : DivLoop<A2, B, `${Q}${k}`, USub<R2, k extends "1" ? B : Mult<B, k>>>
        : never
      : never
    : [Q extends "" ? "0" : Q, R];

/** [A // B, A % B] for magnitudes, B > 0. */
type UDivMod<A extends string, B extends string> =
  UCmp<A, B> extends "<" ? ["0", A] : B extends "1" ? [A, "0"] : DivLoop<A, B>;

// ---------------------------------------------------------------------------------------------
// Signed values: canonical decimal strings, "-" for negatives, never "-0".
// ---------------------------------------------------------------------------------------------

/** -S. */
type SNeg<S extends string> = S extends `-${infer M}` ? M : S extends "0" ? "0" : `-${S}`;

/** |S|. */
type SAbs<S extends string> = S extends `-${infer M}` ? M : S;

/** A - B for magnitudes, signed. */
type UDiff<A extends string, B extends string> =
  UCmp<A, B> extends infer o
    ? o extends "<"
      ? `-${USub<B, A>}`
      : o extends ">"
        ? USub<A, B>
        : "0"
    : never;

/** A + B, signed. */
type SAdd<A extends string, B extends string> = A extends `-${infer MA}`
  ? B extends `-${infer MB}`
    ? `-${UAdd<MA, MB>}`
    : UDiff<B, MA>
  : B extends `-${infer MB}`
    ? UDiff<A, MB>
    : UAdd<A, B>;

/** A * B, signed. */
type SMul<A extends string, B extends string> =
  UMul<SAbs<A>, SAbs<B>> extends infer P extends string
    ? P extends "0"
      ? "0"
      : A extends `-${string}`
        ? B extends `-${string}`
          ? P
          : `-${P}`
        : B extends `-${string}`
          ? `-${P}`
          : P
    : never;

/** Compares two signed values. */
type SCmp<A extends string, B extends string> = A extends `-${infer MA}`
  ? B extends `-${infer MB}`
    ? UCmp<MB, MA>
    : "<"
  : B extends `-${string}`
    ? ">"
    : UCmp<A, B>;

/**
 * [A // B, A % B] with Python's floor semantics: the quotient rounds toward -infinity and the
 * remainder takes the divisor's sign (A = Q * B + R). B is not 0.
 */
type SDivMod<A extends string, B extends string> =
  UDivMod<SAbs<A>, SAbs<B>> extends [infer Q extends string, infer R extends string]
    ? A extends `-${string}`
      ? B extends `-${string}`
        ? [Q, SNeg<R>] // (-a) // (-b) = a // b; remainder -r
        : R extends "0"
          ? [SNeg<Q>, "0"]
          : [`-${UAdd<Q, "1">}`, USub<SAbs<B>, R>]
      : B extends `-${infer MB}`
        ? R extends "0"
          ? [SNeg<Q>, "0"]
          : [`-${UAdd<Q, "1">}`, `-${USub<MB, R>}`]
        : [Q, R]
    : never;

// ---------------------------------------------------------------------------------------------
// Between number types and signed strings.
// ---------------------------------------------------------------------------------------------

/** True for a union type. */
type IsUnion<T, U = T> = T extends unknown ? ([U] extends [T] ? false : true) : never;

/**
 * True when the magnitude is at most 2^53 - 1. Fewer than 16 digits is decided by two fixed-length
 * patterns (each `infer` takes exactly one character), 16 digits by comparison.
 */
type SafeMag<M extends string> =
  M extends `${infer _0}${infer _1}${infer _2}${infer _3}${infer _4}${infer _5}${infer _6}${infer _7}${string}`
    ? M extends `${infer _0}${infer _1}${infer _2}${infer _3}${infer _4}${infer _5}${infer _6}${infer _7}${infer _8}${infer _9}${infer _a}${infer _b}${infer _c}${infer _d}${infer _e}${infer _f}${string}`
      ? UCmp<M, MaxSafe> extends ">"
        ? false
        : true
      : true
    : true;

/**
 * A canonical decimal string, or `number` when S is not a safe integer's: "2.5", "1e+21", "1e-7",
 * "Infinity", or a non-literal such as `${number}` (from a branded `number & {...}`).
 */
type ParseStr<S extends string> = S extends `${string}${"." | "e" | "I"}${string}`
  ? number
  : S extends `${Digit}${string}` | `-${Digit}${string}`
    ? ParseInt<S>
    : number;

/** ParseStr for an optionally signed run of digits. */
type ParseInt<S extends string> = S extends `-${infer M}`
    ? M extends "0"
      ? "0"
      : SafeMag<M> extends true
        ? S
        : number
    : SafeMag<S> extends true
      ? S
      : number;

/**
 * The signed string of a number type: a string for a safe integer literal, `number` for anything
 * else (`number`, `any`, a union, 2.5, 1e+21), `never` for `never`.
 */
type Lit<N> = [N] extends [never]
  ? never
  : number extends N
    ? number
    : IsUnion<N> extends true
      ? number
      : N extends number
        ? ParseStr<`${N}`>
        : number;

/**
 * Both operands as signed strings: `[SA, SB]`; `"never"` when either is `never`; `number` when
 * either is not a safe integer literal. (A `never` checked against a tuple pattern would match it
 * with unconstrained inferences, hence the marker.)
 */
type Args<A, B> = [A] extends [never]
  ? "never"
  : [B] extends [never]
    ? "never"
    : [Lit<A>, Lit<B>] extends [infer SA extends string, infer SB extends string]
      ? [SA, SB]
      : number;

/** The fallback of an operation whose {@link Args} did not give two strings. */
type Else<X, R> = X extends "never" ? never : R;

/** The number literal of a signed string known to be safe. */
type ToNum<S extends string> = S extends `${infer N extends number}` ? N : number;

/** The number literal of a signed string, or `number` beyond ±(2^53 - 1). */
type Out<S extends string> = SafeMag<SAbs<S>> extends true ? ToNum<S> : number;

// ---------------------------------------------------------------------------------------------
// Public API.
// ---------------------------------------------------------------------------------------------

/**
 * A + B.
 *
 * @example
 * type T = Add<999, 1>; // 1000
 */
export type Add<A extends number, B extends number> =
  Args<A, B> extends [infer SA extends string, infer SB extends string]
    ? Out<SAdd<SA, SB>>
    : Else<Args<A, B>, number>;

/**
 * A - B; may be negative.
 *
 * @example
 * type T = Sub<3, 5>; // -2
 */
export type Sub<A extends number, B extends number> =
  Args<A, B> extends [infer SA extends string, infer SB extends string]
    ? Out<SAdd<SA, SNeg<SB>>>
    : Else<Args<A, B>, number>;

/**
 * A * B.
 *
 * @example
 * type T = Mul<512, 49>; // 25088
 */
export type Mul<A extends number, B extends number> =
  Args<A, B> extends [infer SA extends string, infer SB extends string]
    ? Out<SMul<SA, SB>>
    : Else<Args<A, B>, number>;

/**
 * Floor division, as Python's `A // B` (rounds toward -infinity: `Div<-7, 2>` is -4); `never`
 * when B is 0 (whatever A is).
 *
 * @example
 * type T = Div<7, 2>; // 3
 */
export type Div<A extends number, B extends number> =
  Args<A, B> extends [infer SA extends string, infer SB extends string]
    ? SB extends "0"
      ? never
      : SDivMod<SA, SB> extends [infer Q extends string, string]
        ? Out<Q>
        : never
    : Else<Args<A, B>, Lit<B> extends "0" ? never : number>;

/**
 * Remainder of floor division, as Python's `A % B` (takes B's sign: `Mod<-7, 2>` is 1), so that
 * `A = Div<A, B> * B + Mod<A, B>`; `never` when B is 0 (whatever A is).
 *
 * @example
 * type T = Mod<7, 2>; // 1
 */
export type Mod<A extends number, B extends number> =
  Args<A, B> extends [infer SA extends string, infer SB extends string]
    ? SB extends "0"
      ? never
      : SDivMod<SA, SB> extends [string, infer R extends string]
        ? ToNum<R>
        : never
    : Else<Args<A, B>, Lit<B> extends "0" ? never : number>;

/** `true` when the signed comparison of A and B yields one of `Os`; `boolean` if not literal. */
type CmpIs<A extends number, B extends number, Os extends Order> =
  Args<A, B> extends [infer SA extends string, infer SB extends string]
    ? SCmp<SA, SB> extends Os
      ? true
      : false
    : Else<Args<A, B>, boolean>;

/**
 * A < B.
 *
 * @example
 * type T = Lt<-3, -2>; // true
 */
export type Lt<A extends number, B extends number> = CmpIs<A, B, "<">;

/**
 * A <= B.
 *
 * @example
 * type T = Le<7, 7>; // true
 */
export type Le<A extends number, B extends number> = CmpIs<A, B, "<" | "=">;

/**
 * A > B.
 *
 * @example
 * type T = Gt<1000, 999>; // true
 */
export type Gt<A extends number, B extends number> = CmpIs<A, B, ">">;

/**
 * A >= B.
 *
 * @example
 * type T = Ge<-1, 0>; // false
 */
export type Ge<A extends number, B extends number> = CmpIs<A, B, ">" | "=">;

/**
 * A === B (numerically).
 *
 * @example
 * type T = Eq<784, 784>; // true
 */
export type Eq<A extends number, B extends number> = CmpIs<A, B, "=">;

/**
 * The larger of A and B.
 *
 * @example
 * type T = Max<-3, 2>; // 2
 */
export type Max<A extends number, B extends number> =
  Args<A, B> extends [infer SA extends string, infer SB extends string]
    ? SCmp<SA, SB> extends "<"
      ? ToNum<SB>
      : ToNum<SA>
    : Else<Args<A, B>, number>;

/**
 * The smaller of A and B.
 *
 * @example
 * type T = Min<-3, 2>; // -3
 */
export type Min<A extends number, B extends number> =
  Args<A, B> extends [infer SA extends string, infer SB extends string]
    ? SCmp<SA, SB> extends ">"
      ? ToNum<SB>
      : ToNum<SA>
    : Else<Args<A, B>, number>;

/**
 * -A.
 *
 * @example
 * type T = Neg<5>; // -5
 */
export type Neg<A extends number> =
  Lit<A> extends infer S ? (S extends string ? ToNum<SNeg<S>> : S & number) : never;

/**
 * |A|.
 *
 * @example
 * type T = Abs<-5>; // 5
 */
export type Abs<A extends number> =
  Lit<A> extends infer S ? (S extends string ? ToNum<SAbs<S>> : S & number) : never;

/** Product loop: stops with `number` at the first non-literal or unsafe partial product. */
type ProductLoop<T extends readonly number[], Acc extends string> =
  T extends readonly [infer H extends number, ...infer R extends readonly number[]]
    ? Lit<H> extends infer S
      ? S extends string
        ? SMul<Acc, S> extends infer P extends string
          ? SafeMag<SAbs<P>> extends true
            ? ProductLoop<R, P>
            : number
          : never
        : S & number // number or never
      : never
    : ToNum<Acc>;

/**
 * The product of a tuple's elements; 1 for `[]`; `number` for a non-tuple array, a non-literal
 * element, a product beyond ±(2^53 - 1) or a tuple of 900 or more elements.
 *
 * @example
 * type T = Product<[512, 7, 7]>; // 25088
 */
export type Product<T extends readonly number[]> = T[number] extends number // defers on a generic element, so it displays as `Product<[B, 784]>`
  ? number extends T["length"]
    ? number
    : `${T["length"]}` extends `${infer _0}${infer _1}${infer _2}${infer _3}${string}` | `9${Digit}${Digit}`
      ? number // 900+ elements: near the 1,000-step tail-recursion limit
      : ProductLoop<T, "1">
  : never;

/** Sum loop: like {@link ProductLoop}. */
type SumLoop<T extends readonly number[], Acc extends string> =
  T extends readonly [infer H extends number, ...infer R extends readonly number[]]
    ? Lit<H> extends infer S
      ? S extends string
        ? SAdd<Acc, S> extends infer P extends string
          ? SafeMag<SAbs<P>> extends true
            ? SumLoop<R, P>
            : number
          : never
        : S & number // number or never
      : never
    : ToNum<Acc>;

/**
 * The sum of a tuple's elements; 0 for `[]`; `number` like {@link Product}.
 *
 * @example
 * type T = Sum<[1, 2, 3]>; // 6
 */
export type Sum<T extends readonly number[]> = T[number] extends number // defers on a generic element, so it displays as `Sum<[B, 784]>`
  ? number extends T["length"]
    ? number
    : `${T["length"]}` extends `${infer _0}${infer _1}${infer _2}${infer _3}${string}` | `9${Digit}${Digit}`
      ? number // 900+ elements: near the 1,000-step tail-recursion limit
      : SumLoop<T, "0">
  : never;
