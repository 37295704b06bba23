/**
 * The 32-bit Mersenne Twister (MT19937) exactly as PyTorch's `at::mt19937` runs it: seeded from the
 * low 32 bits of a 64-bit seed with Knuth's initialisation, with the same `left`/`next` bookkeeping
 * (so a state saved by PyTorch's `get_rng_state()` can be loaded and continues identically).
 *
 * Everything is `>>> 0` arithmetic on a `Uint32Array`; nothing allocates per draw.
 */

/** Number of 32-bit words in the state vector. */
export const MT_N = 624;
const MT_M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;

/**
 * A Mersenne Twister engine. `seedLo`/`seedHi` hold the full 64-bit seed it was created from
 * (PyTorch reports all 64 bits in `initial_seed()` but only the low 32 feed the twister).
 *
 * @example
 * const e = new MT19937(); e.seed(5489, 0);
 * e.nextUint32(); // 3499211612, the first output of std::mt19937 with its default seed
 */
export class MT19937 {
  /** The 624-word state vector. */
  readonly state = new Uint32Array(MT_N);
  /** Draws left before the next twist, plus one (PyTorch's `left_`; 1 right after seeding). */
  left = 1;
  /** Index of the next state word to temper (PyTorch's `next_`). */
  next = 0;
  /** Low 32 bits of the seed. */
  seedLo = 0;
  /** High 32 bits of the seed. */
  seedHi = 0;

  /**
   * Re-initialises the state from a 64-bit seed given as two uint32 halves.
   *
   * @example
   * e.seed(5, 1); // the seed 2**32 + 5: same stream as seed 5, but initialSeed reports 2**32 + 5
   */
  seed(lo: number, hi: number): void {
    const s = this.state;
    this.seedLo = lo >>> 0;
    this.seedHi = hi >>> 0;
    s[0] = this.seedLo;
    let prev = this.seedLo;
    for (let j = 1; j < MT_N; j++) {
      prev = (Math.imul(1812433253, (prev ^ (prev >>> 30)) >>> 0) + j) >>> 0;
      s[j] = prev;
    }
    this.left = 1;
    this.next = 0;
  }

  /** Regenerates the whole state vector (the "twist"). */
  private twist(): void {
    const s = this.state;
    let kk = 0;
    let y: number;
    for (; kk < MT_N - MT_M; kk++) {
      y = ((s[kk]! & UPPER_MASK) | (s[kk + 1]! & LOWER_MASK)) >>> 0;
      s[kk] = (s[kk + MT_M]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0)) >>> 0;
    }
    for (; kk < MT_N - 1; kk++) {
      y = ((s[kk]! & UPPER_MASK) | (s[kk + 1]! & LOWER_MASK)) >>> 0;
      s[kk] = (s[kk + MT_M - MT_N]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0)) >>> 0;
    }
    y = ((s[MT_N - 1]! & UPPER_MASK) | (s[0]! & LOWER_MASK)) >>> 0;
    s[MT_N - 1] = (s[MT_M - 1]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0)) >>> 0;
    this.left = MT_N;
    this.next = 0;
  }

  /**
   * The next tempered 32-bit output, as a number in [0, 2^32).
   *
   * @example
   * e.seed(0, 0); e.nextUint32(); // 2357136044
   */
  nextUint32(): number {
    if (--this.left === 0) this.twist();
    let y = this.state[this.next++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** Copies another engine's full state into this one. */
  copyFrom(other: MT19937): void {
    this.state.set(other.state);
    this.left = other.left;
    this.next = other.next;
    this.seedLo = other.seedLo;
    this.seedHi = other.seedHi;
  }
}
