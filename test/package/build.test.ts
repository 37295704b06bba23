import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = new URL("../../", import.meta.url).pathname;
const tsc = join(root, "node_modules/.bin/tsc");

// The published entry point: `npm run build` emits dist/, and the package's `exports` make
// `import ... from "typetorch"` work from Node and type-check for a consumer (self-reference
// resolves exactly as an installed package does).
describe("package entry point", () => {
  execFileSync("npm", ["run", "build"], { cwd: root, stdio: "pipe" });

  it("imports from Node after npm run build", () => {
    const out = execFileSync(
      process.execPath,
      ["--input-type=module", "-e", `import { torch, nn, Tensor, ShapeError } from "typetorch";
const y = torch.ones(2, 3).matmul(torch.ones(3, 4));
console.log(JSON.stringify({ shape: y.shape, sum: y.sum().item(), isTensor: y instanceof Tensor, relu: typeof nn.functional.relu, err: typeof ShapeError }));`],
      { cwd: root, encoding: "utf8" },
    );
    expect(JSON.parse(out)).toEqual({ shape: [2, 4], sum: 24, isTensor: true, relu: "function", err: "function" });
  });

  it("type-checks a consumer against the emitted declarations, shape errors included", () => {
    const dir = mkdtempSync(join(root, "test/package/.consumer-"));
    try {
      writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({
        compilerOptions: { strict: true, module: "NodeNext", moduleResolution: "NodeNext", target: "ES2022", noEmit: true, skipLibCheck: true, types: [] },
        files: ["main.ts"],
      }));
      writeFileSync(join(dir, "main.ts"), [
        `import { torch, type Tensor } from "typetorch";`,
        `const x = torch.randn(64, 784);`,
        `const h: Tensor<[64, 256]> = x.matmul(torch.randn(784, 256));`,
        `// @ts-expect-error matmul: inner dims must match`,
        `x.matmul(torch.randn(783, 256));`,
        `void h;`,
      ].join("\n"));
      const r = (() => {
        try {
          return execFileSync(tsc, ["-p", dir], { cwd: root, encoding: "utf8" });
        } catch (e) {
          return String((e as { stdout?: string }).stdout) + String((e as { stderr?: string }).stderr);
        }
      })();
      expect(r).toBe("");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
