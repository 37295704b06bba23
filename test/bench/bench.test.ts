import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * Smoke test of `npm run bench -- --quick`: the bench runs end to end, its correctness check
 * passes, and the check really fails (exit 1) on a wrong kernel, while a TF.js wasm backend that
 * can't start is reported and doesn't fail the run.
 */
const root = fileURLToPath(new URL("../..", import.meta.url));

function bench(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync("npx", ["tsx", "bench/run.ts", "--quick", "--no-write", ...args], {
    cwd: root,
    encoding: "utf8",
    timeout: 55_000,
    env: { ...process.env, ...env },
  });
  return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "", error: r.error };
}

describe("bench/run.ts --quick", () => {
  it("runs, checks every engine's matmul before timing, and passes", { timeout: 60_000 }, () => {
    const r = bench([]);
    expect(r.error).toBeUndefined();
    expect(r.stderr + r.stdout).not.toMatch(/FAILED:/);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^correctness: PASS/m);
    // typetorch has a GFLOP/s number for each quick size, and TF.js cpu does too
    for (const n of [64, 128]) expect(r.stdout).toMatch(new RegExp(`^\\| ${n} +\\| +\\d+(\\.\\d+)? +\\| +\\d+(\\.\\d+)? +\\|`, "m"));
    // the wasm column is either the SIMD build or loudly unavailable
    expect(r.stdout).toMatch(/wasm backend tfjs-backend-wasm-simd\.wasm, SIMD=true, threads=1|TF\.js wasm backend UNAVAILABLE/);
    expect(r.stdout).toMatch(/^\| `a\.add\(b\)` +\| +\d/m);
    // steady training memory: heap + array buffers after a full GC, before and after more steps
    const steady = /in steady state .*? MLP ([+-]?[\d.]+) MiB, CNN ([+-]?[\d.]+) MiB/.exec(r.stdout);
    expect(steady, r.stdout).not.toBeNull();
    for (const v of steady!.slice(1)) expect(Math.abs(Number(v))).toBeLessThan(16);
  });

  it("fails (exit 1, FAILED lines) when typetorch's product is wrong, and never times it", { timeout: 60_000 }, () => {
    const r = bench(["--no-torch", "--inject-fault"]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^FAILED: 64×64 @ 64×64: typetorch result is WRONG/m);
    expect(r.stdout).toMatch(/^correctness: FAIL/m);
    expect(r.stdout).toMatch(/^\| 64 +\| +— +\|/m);
  });

  it("reports a TF.js wasm backend that can't initialise and still exits 0", { timeout: 60_000 }, () => {
    const r = bench(["--no-torch"], { BENCH_WASM_DIR: "/nonexistent-typetorch-wasm-dir/" });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^note: TF\.js wasm backend UNAVAILABLE: /m);
    expect(r.stdout).toMatch(/^correctness: PASS/m);
  });
});
