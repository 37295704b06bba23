/**
 * End to end: the browser demo (`examples/browser`) built with esbuild, served on 127.0.0.1, and
 * driven in headless Chromium (Debian's, with SwiftShader's WebGPU) by playwright-core: it must
 * train on WebGPU until the test accuracy rose, then a screenshot goes to `test-output/`.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import { buildDemo } from "../../examples/browser/build.js";
import { serve } from "../../examples/browser/serve.js";

const CHROMIUM = "/usr/bin/chromium";
const why = existsSync(CHROMIUM) ? null : `no browser at ${CHROMIUM} (apt-get install chromium)`;
if (why !== null) {
  if (process.env.CI) throw new Error(`the browser demo test must run in CI, got ${why}`);
  console.warn(`[browser demo test skipped] ${why}`);
}

interface DemoState { device: string; note: string; steps: number; history: { step: number; loss: number; acc: number }[]; error: string | null }

describe.skipIf(why !== null)("browser demo in headless Chromium", () => {
  let server: Server | undefined;
  const profile = mkdtempSync(join(tmpdir(), "typetorch-chromium-"));
  afterAll(() => {
    server?.close();
    rmSync(profile, { recursive: true, force: true });
  });

  it("trains the MNIST MLP on WebGPU, accuracy rises, screenshot saved", async () => {
    const dir = await buildDemo({ nTrain: 3000, nTest: 300 });
    server = await serve(dir, 0);
    const addr = server.address();
    const port = typeof addr === "object" && addr ? addr.port : 0;
    const ctx = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: false, // --headless=new below
      args: ["--headless=new", "--no-sandbox", "--enable-unsafe-webgpu", "--use-webgpu-adapter=swiftshader", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
      viewport: { width: 1200, height: 760 },
    });
    try {
      const page = ctx.pages()[0] ?? (await ctx.newPage());
      const logs: string[] = [];
      page.on("console", (m) => logs.push(m.text()));
      page.on("pageerror", (e) => logs.push(String(e)));
      await page.goto(`http://127.0.0.1:${port}/`);
      await page.waitForFunction(
        () => {
          const s = (globalThis as unknown as { __demo?: DemoState }).__demo;
          return !!s && (s.error !== null || s.steps >= 60);
        },
        undefined,
        { timeout: 240_000, polling: 500 },
      );
      // One more evaluation after step 60, so the chart shows the rise.
      await page.waitForFunction(() => ((globalThis as unknown as { __demo: DemoState }).__demo.history.length >= 8), undefined, { timeout: 120_000, polling: 500 });
      const s = await page.evaluate(() => (globalThis as unknown as { __demo: DemoState }).__demo);
      expect(s.error, logs.join("\n")).toBeNull();
      expect(s.device, s.note).toBe("webgpu");
      const first = s.history[0]!.acc;
      const best = Math.max(...s.history.map((h) => h.acc));
      expect(best, JSON.stringify(s.history)).toBeGreaterThan(first + 0.3);
      mkdirSync("test-output", { recursive: true });
      await page.screenshot({ path: "test-output/browser-demo.png", fullPage: true });
    } finally {
      await ctx.close();
    }
  });
});
