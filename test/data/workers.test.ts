/**
 * DataLoader with numWorkers > 0: worker threads give the same batches, in the same order, as
 * numWorkers 0. A TensorDataset is shared with the workers as is; other datasets come from a
 * workerModule (test/data/fixtures/squares.ts).
 */
import { describe, expect, it } from "vitest";
import { DataLoader, TensorDataset } from "../../runtime/data/index.js";
import { Generator } from "../../runtime/random.js";
import * as torch from "../../runtime/torch.js";
import { ValueError } from "../../types/errors.js";
import { Squares, WhoAmI } from "./fixtures/squares.js";

const SQUARES = new URL("./fixtures/squares.ts", import.meta.url);

async function collect<B>(loader: AsyncIterable<B>, take = Infinity): Promise<B[]> {
  const out: B[] = [];
  for await (const b of loader) {
    out.push(b);
    if (out.length === take) break;
  }
  return out;
}

const plain = (v: unknown): unknown =>
  v instanceof torch.Tensor ? { shape: v.shape, dtype: v.dtype, values: v.toArray() } : Array.isArray(v) ? v.map(plain) : v !== null && typeof v === "object" ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)])) : v;

describe("numWorkers > 0", () => {
  it("a shuffled TensorDataset: the same batches as numWorkers 0, epoch after epoch", async () => {
    const ds = new TensorDataset(torch.randn(50, 3), torch.arange(50), torch.rand(50).gt(0.5));
    const run = async (numWorkers: number) => {
      torch.manualSeed(5);
      const loader = new DataLoader(ds, { batchSize: 8, shuffle: true, numWorkers });
      return [...(await collect(loader)), ...(await collect(loader))].map(plain);
    };
    const want = await run(0);
    expect(want.length).toBe(14);
    expect(await run(2)).toEqual(want);
  });

  it("seeds each worker with the base seed + its id, deals batches round robin; persistent workers and an early break", async () => {
    torch.manualSeed(21);
    const base = new Generator().manualSeed(21).random64() % 2n ** 63n; // the loader's first draw
    const loader = new DataLoader(new WhoAmI(), { batchSize: 2, numWorkers: 2, workerModule: SQUARES, workerExport: "WhoAmI", persistentWorkers: true });
    const batches = await collect(loader);
    expect(batches.map((b) => b.i.toArray())).toEqual([[0, 1], [2, 3], [4, 5], [6, 7], [8, 9], [10, 11]]);
    expect(batches.map((b) => b.worker.toArray())).toEqual([[0, 0], [1, 1], [0, 0], [1, 1], [0, 0], [1, 1]]);
    expect(batches.map((b) => b.seed)).toEqual(batches.map((_, k) => [String(base + BigInt(k % 2)), String(base + BigInt(k % 2))]));
    // worker w's draws continue one stream seeded base + w
    const streams = [0, 1].map((w) => new Generator().manualSeed(base + BigInt(w)));
    for (const w of [0, 1]) {
      const got = batches.filter((_, k) => k % 2 === w).flatMap((b) => b.draw.toArray() as number[]);
      expect(got).toEqual(got.map(() => torch.randint(0, 1000000, [1], { generator: streams[w]! }).item()));
    }
    // persistent: the same workers (and seeds) next epoch; leaving an epoch early is fine
    expect((await collect(loader, 1)).map((b) => b.i.toArray())).toEqual([[0, 1]]);
    const again = await collect(loader);
    expect(again.map((b) => b.seed)).toEqual(batches.map((b) => b.seed));
    expect(again.map((b) => b.i.toArray())).toEqual(batches.map((b) => b.i.toArray()));
    loader.close();
  });

  it("takes a factory, a Dataset class or a dataset instance as the workerExport; collateFn runs on the main thread", async () => {
    const want = (await collect(new DataLoader(new Squares(10), { batchSize: 4, numWorkers: 0 }))).map(plain);
    const byFactory = new DataLoader(new Squares(10), { batchSize: 4, numWorkers: 1, workerModule: SQUARES, workerArgs: [10] });
    expect((await collect(byFactory)).map(plain)).toEqual(want);
    const byClass = new DataLoader(new Squares(10), { batchSize: 4, numWorkers: 1, workerModule: SQUARES, workerExport: "Squares", workerArgs: [10] });
    expect((await collect(byClass)).map(plain)).toEqual(want);
    const collateFn = (s: { name: string }[]) => s.map((q) => q.name).join();
    const byInstance = new DataLoader(new Squares(10), { batchSize: 4, numWorkers: 1, workerModule: SQUARES.href, workerExport: "ten", collateFn });
    expect(await collect(byInstance)).toEqual(["s0,s1,s2,s3", "s4,s5,s6,s7", "s8,s9"]);
  });

  it("reports errors of the workers' datasets with their class and message", async () => {
    const failing = new DataLoader(new Squares(10), { batchSize: 4, numWorkers: 1, workerModule: SQUARES, workerArgs: [10, 5] });
    const err = await collect(failing).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(ValueError);
    expect((err as Error).message).toBe("Squares.get: index must not be 5, got 5");
    const short = new DataLoader(new Squares(10), { batchSize: 4, numWorkers: 1, workerModule: SQUARES, workerArgs: [9] });
    await expect(collect(short)).rejects.toThrow("DataLoader: the worker's dataset must have the same length as the loader's, got 9 in worker 0 and 10 in the loader");
    const missing = new DataLoader(new Squares(10), { batchSize: 4, numWorkers: 1, workerModule: SQUARES, workerExport: "nope" });
    await expect(collect(missing)).rejects.toThrow(/DataLoader: the workerModule must export "nope", got exports \[.*Squares.*\]/);
  });
});
