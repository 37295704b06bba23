/**
 * Every optimizer case of test/fixtures/optim.json (PyTorch 1.13): the parameters after each of
 * the steps of `zeroGrad(); loss.backward(); step()` agree with PyTorch's to 1e-6 (float32) /
 * 1e-12 (float64) relative, and the parameter without a gradient never moves.
 */
import { describe, expect, it } from "vitest";
import { build, fixtures, runAndCheck } from "./fixture.js";

describe("optim.json", () => {
  it("comes from PyTorch 1.13 and covers every optimizer and option", () => {
    expect(fixtures.torch.startsWith("1.13")).toBe(true);
    const byOpt = (o: string) => fixtures.optimizers.filter((c) => c.optimizer === o);
    expect(byOpt("SGD").length).toBe(42);
    expect(byOpt("Adam").length).toBeGreaterThanOrEqual(14);
    expect(byOpt("AdamW").length).toBeGreaterThanOrEqual(10);
    const keys = new Set(fixtures.optimizers.flatMap((c) => Object.keys(c.options)));
    for (const k of ["lr", "momentum", "dampening", "nesterov", "weightDecay", "maximize", "betas", "eps", "amsgrad"]) expect(keys.has(k), k).toBe(true);
  });
});

describe.each(["SGD", "Adam", "AdamW"] as const)("%s trajectories match PyTorch", (name) => {
  const cases = fixtures.optimizers.filter((c) => c.optimizer === name);
  it.each(cases.map((c) => [c.id, c] as const))("%s", (_id, c) => {
    const { prob, opt } = build(c);
    runAndCheck(c, prob, opt, 0, fixtures.steps);
    // u takes no part in the loss: no grad, skipped (no state either).
    expect(prob.params.u!.grad).toBeNull();
    expect(opt.state.has(prob.params.u!)).toBe(false);
  });
});
