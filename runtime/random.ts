/**
 * Random numbers identical to PyTorch 1.13's CPU generator (`torch.manual_seed`, `torch.Generator`,
 * `rand`, `randn`, `randint`, `randperm`, `bernoulli`): the same seed gives the same numbers, so a
 * ported notebook prints what it printed in PyTorch.
 *
 * - `Generator` — mt19937 with PyTorch's seeding, draws and `get_rng_state()` byte layout.
 * - Fill functions over contiguous typed-array storage, one per PyTorch CPU kernel.
 *
 * The implementation lives in `./random/` (mt19937.ts, fma.ts, avx2normal.ts, generator.ts,
 * distributions.ts).
 *
 * @example
 * import { manualSeed, uniformFill } from "./random.js";
 * manualSeed(0);
 * const a = new Float32Array(3);
 * uniformFill(a, 0, 1); // [0.49625658988952637, 0.7682217955589294, 0.08847743272781372]
 */
export { Generator, defaultGenerator, manualSeed, initialSeed } from "./random/generator.js";
export { uniformFill, normalFill, randintFill, randpermArray, bernoulliFill } from "./random/distributions.js";
