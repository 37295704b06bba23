/** examples/04-compile.ts runs as a user runs it and shows the whole flow. */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect, it } from "vitest";

const root = new URL("../../", import.meta.url).pathname;

it("04-compile.ts: compile, run on the kernels, train with compileStep", async () => {
  const { stdout, stderr } = await promisify(execFile)(join(root, "node_modules/.bin/tsx"), [join(root, "examples/04-compile.ts")], { cwd: root, encoding: "utf8", timeout: 120_000 });
  expect(stderr).toBe("");
  expect(stdout).toContain("Net: input [B, 784], 3 forward kernels, 5 backward kernels");
  expect(stdout).toContain("linear_relu  fc1 Linear(784→256) + relu (line 13)");
  expect(stdout).toContain("generated file unchanged: true");
  expect(stdout).toContain("compiled forward: 3 kernel launches, output shape [64, 10]");
  expect(stdout).toContain("equals eager: true");
  expect(stdout).toContain("compiled step: 10 kernel launches per step");
  expect(stdout).toContain("same loss as eager (float32 tolerance): true");
});
