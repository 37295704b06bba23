/**
 * `torch.Generator` for the CPU: PyTorch 1.13's `CPUGeneratorImpl` — an mt19937 engine plus the
 * cached second Box–Muller sample — with the same seeding, the same draws and the same
 * `get_rng_state()` byte layout.
 */
import { ValueError } from "../../types/errors.js";
import { MT19937, MT_N } from "./mt19937.js";

/** The seed of a fresh `torch.Generator()` (PyTorch's `default_rng_seed_val`). */
export const DEFAULT_RNG_SEED = 67280421310721;

/** Size in bytes of PyTorch's `CPUGeneratorImplState` (what `torch.get_rng_state()` returns). */
export const STATE_SIZE = 5056;
/** Size in bytes of the pre-1.5 `CPUGeneratorImplStateLegacy`, also accepted by `setState`. */
export const LEGACY_STATE_SIZE = 5048;

const TWO_32 = 4294967296;
const TWO_53 = 9007199254740992;
const MIN_SEED = -(2n ** 63n);
const SEED_LIMIT = 2n ** 64n;

/** Splits a user seed into the uint64's low and high words, as PyTorch's `manual_seed` reads it. */
function seedWords(seed: number | bigint, op: string): [number, number] {
  let s: bigint;
  if (typeof seed === "bigint") {
    s = seed;
  } else if (typeof seed === "number" && Number.isInteger(seed)) {
    s = BigInt(seed);
  } else {
    throw new ValueError(`${op}: seed must be an integer, got ${String(seed)}`);
  }
  if (s < MIN_SEED || s >= SEED_LIMIT) {
    throw new ValueError(`${op}: seed must be in [-2**63, 2**64), got ${s}`);
  }
  if (s < 0n) s += SEED_LIMIT; // negative seeds wrap to uint64, as in PyTorch
  return [Number(s & 0xffffffffn), Number(s >> 32n)];
}

/** A non-deterministic seed below 2^53 (so `initialSeed()` reports it exactly). */
function nondeterministicSeed(): number {
  const words = new Uint32Array(2);
  const c = (globalThis as { crypto?: { getRandomValues?(a: Uint32Array): unknown } }).crypto;
  if (c?.getRandomValues) {
    c.getRandomValues(words);
  } else {
    words[0] = Math.floor(Math.random() * TWO_32);
    words[1] = Math.floor(Math.random() * TWO_32);
  }
  return (words[1]! & 0x1fffff) * TWO_32 + words[0]!;
}

/**
 * A random number generator for the CPU — `torch.Generator`. Seeded alike, it produces exactly the
 * numbers PyTorch 1.13's CPU generator produces, in every fill function of this module.
 *
 * A new generator starts from PyTorch's fixed default seed, 67280421310721.
 *
 * @example
 * const g = new Generator().manualSeed(42);
 * g.random();       // 1608637542: the first 32-bit draw after manual_seed(42)
 * g.initialSeed();  // 42
 */
export class Generator {
  /** Always `"cpu"`. */
  readonly device = "cpu" as const;
  /** @internal The Mersenne Twister behind it. */
  readonly engine = new MT19937();
  /** @internal The cached second sample of the double Box–Muller path, if `hasNextDoubleNormal`. */
  nextDoubleNormal = 0;
  /** @internal */
  hasNextDoubleNormal = false;
  /** @internal The float cache PyTorch keeps (unused by CPU kernels; kept for state round trips). */
  nextFloatNormal = 0;
  /** @internal */
  hasNextFloatNormal = false;

  /**
   * Creates a generator seeded with PyTorch's default seed 67280421310721.
   *
   * @example
   * const g = new Generator("cpu");
   */
  constructor(device: "cpu" = "cpu") {
    if ((device as string) !== "cpu") {
      throw new ValueError(`Generator: device must be "cpu", got ${JSON.stringify(device)}`);
    }
    this.engine.seed(DEFAULT_RNG_SEED % TWO_32, Math.floor(DEFAULT_RNG_SEED / TWO_32));
  }

  /**
   * Seeds the generator (`torch.Generator.manual_seed`). Any integer in [-2^63, 2^64) is accepted;
   * negative seeds wrap to uint64 like in PyTorch, and only the low 32 bits feed the twister (so
   * seeds 5 and 2^32 + 5 give the same numbers but different `initialSeed()`s). Clears the cached
   * normal sample.
   *
   * @example
   * const g = new Generator().manualSeed(0); // same stream as torch.manual_seed(0)
   */
  manualSeed(seed: number | bigint): this {
    const [lo, hi] = seedWords(seed, "manualSeed");
    this.reseed(lo, hi);
    return this;
  }

  /**
   * Re-seeds from a non-deterministic source (`torch.Generator.seed`) and returns the seed. The
   * seed is below 2^53 so that it round-trips through `manualSeed` as a number.
   *
   * @example
   * const s = g.seed(); new Generator().manualSeed(s); // now draws what g draws
   */
  seed(): number {
    const s = nondeterministicSeed();
    this.reseed(s % TWO_32, Math.floor(s / TWO_32));
    return s;
  }

  /**
   * The seed this generator was last seeded with (`torch.Generator.initial_seed`). Seeds of 2^53
   * and above are returned rounded to the nearest number (the full uint64 is in `getState()`).
   *
   * @example
   * new Generator().manualSeed(2n ** 32n + 5n).initialSeed(); // 4294967301
   */
  initialSeed(): number {
    return this.engine.seedHi * TWO_32 + this.engine.seedLo;
  }

  /**
   * The full generator state as 5056 bytes in exactly the layout of PyTorch's
   * `torch.get_rng_state()` / `Generator.get_state()` (a `CPUGeneratorImplState`, little-endian):
   * states can be exchanged with PyTorch in both directions.
   *
   * @example
   * const s = g.getState(); g.random(); g.setState(s); // the same draw comes again
   */
  getState(): Uint8Array {
    const bytes = new Uint8Array(STATE_SIZE);
    const v = new DataView(bytes.buffer);
    const e = this.engine;
    v.setUint32(0, e.seedLo, true);
    v.setUint32(4, e.seedHi, true);
    v.setInt32(8, e.left, true);
    v.setInt32(12, 1, true); // seeded
    v.setUint32(16, e.next, true);
    for (let i = 0; i < MT_N; i++) v.setUint32(24 + 8 * i, e.state[i]!, true);
    const tail = 24 + 8 * MT_N; // normal_x, normal_y, normal_rho, normal_is_valid
    if (this.hasNextDoubleNormal) {
      v.setFloat64(tail + 8, this.nextDoubleNormal, true);
      v.setInt32(tail + 24, 1, true);
    }
    if (this.hasNextFloatNormal) {
      v.setFloat32(LEGACY_STATE_SIZE, this.nextFloatNormal, true);
      v.setUint8(LEGACY_STATE_SIZE + 4, 1);
    }
    return bytes;
  }

  /**
   * Restores a state from `getState()` or from PyTorch (`torch.get_rng_state().numpy().tobytes()`,
   * 5056 bytes; the 5048-byte legacy layout is also accepted).
   *
   * @example
   * g.setState(defaultGenerator.getState()); // g now continues the default generator's stream
   */
  setState(state: Uint8Array): this {
    if (!(state instanceof Uint8Array) || (state.length !== STATE_SIZE && state.length !== LEGACY_STATE_SIZE)) {
      const got = state instanceof Uint8Array ? `${state.length} bytes` : typeof state;
      throw new ValueError(
        `setState: state must be a Uint8Array of ${STATE_SIZE} bytes (or ${LEGACY_STATE_SIZE}, legacy), got ${got}`,
      );
    }
    const v = new DataView(state.buffer, state.byteOffset, state.byteLength);
    const left = v.getInt32(8, true);
    const seeded = v.getInt32(12, true);
    const next = v.getUint32(16, true);
    if (seeded === 0 || left <= 0 || left > MT_N || next > MT_N) {
      throw new ValueError(`setState: invalid mt19937 state, got seeded=${seeded}, left=${left}, next=${next}`);
    }
    const e = this.engine;
    e.seedLo = v.getUint32(0, true);
    e.seedHi = v.getUint32(4, true);
    e.left = left;
    e.next = next;
    for (let i = 0; i < MT_N; i++) e.state[i] = v.getUint32(24 + 8 * i, true);
    const tail = 24 + 8 * MT_N;
    const normalValid = v.getInt32(tail + 24, true) !== 0;
    this.hasNextDoubleNormal = normalValid;
    this.nextDoubleNormal = 0;
    this.hasNextFloatNormal = false;
    this.nextFloatNormal = 0;
    if (state.length === STATE_SIZE) {
      if (normalValid) this.nextDoubleNormal = v.getFloat64(tail + 8, true);
      if (v.getUint8(LEGACY_STATE_SIZE + 4) !== 0) {
        this.hasNextFloatNormal = true;
        this.nextFloatNormal = v.getFloat32(LEGACY_STATE_SIZE, true);
      }
    } else if (normalValid) {
      // The legacy layout kept (x, rho) of the pending pair; the sample is rho * sin(2 pi x).
      this.nextDoubleNormal = v.getFloat64(tail + 16, true) * Math.sin(2 * Math.PI * v.getFloat64(tail, true));
    }
    return this;
  }

  /**
   * The next raw 32-bit draw, a number in [0, 2^32) (`CPUGeneratorImpl::random`).
   *
   * @example
   * new Generator().manualSeed(0).random(); // 2357136044
   */
  random(): number {
    return this.engine.nextUint32();
  }

  /**
   * The next raw 64-bit draw, as a bigint in [0, 2^64) (`CPUGeneratorImpl::random64`): two 32-bit
   * draws, the first one the high word. The fill functions use an allocation-free path instead.
   *
   * @example
   * new Generator().manualSeed(0).random64(); // 10123822223749065263n (2357136044 * 2^32 + 2546248239)
   */
  random64(): bigint {
    const hi = this.engine.nextUint32();
    const lo = this.engine.nextUint32();
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** @internal A float64 uniform in [0, 1) from 53 bits of `random64()` (no allocation). */
  uniform53(): number {
    const hi = this.engine.nextUint32();
    const lo = this.engine.nextUint32();
    return ((hi & 0x1fffff) * TWO_32 + lo) / TWO_53;
  }

  private reseed(lo: number, hi: number): void {
    this.engine.seed(lo, hi);
    this.hasNextDoubleNormal = false;
    this.nextDoubleNormal = 0;
    this.hasNextFloatNormal = false;
    this.nextFloatNormal = 0;
  }
}

/**
 * The generator every fill function uses when none is passed (`torch.default_generator`). Like
 * PyTorch's, it starts from a non-deterministic seed; call `manualSeed` for reproducible numbers.
 *
 * @example
 * defaultGenerator.manualSeed(0);
 */
export const defaultGenerator: Generator = new Generator();
defaultGenerator.seed();

/**
 * Seeds the default generator (`torch.manual_seed`) and returns it. Also clears its cached normal
 * sample, so everything after it is reproducible.
 *
 * @example
 * manualSeed(42); // torch.rand etc. now repeat PyTorch's numbers after torch.manual_seed(42)
 */
export function manualSeed(seed: number | bigint): Generator {
  return defaultGenerator.manualSeed(seed);
}

/**
 * The default generator's seed (`torch.initial_seed`).
 *
 * @example
 * manualSeed(7); initialSeed(); // 7
 */
export function initialSeed(): number {
  return defaultGenerator.initialSeed();
}
