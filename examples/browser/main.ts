/**
 * The browser demo: trains the MNIST MLP (784-128-10) on WebGPU when the browser has it, else on
 * the CPU, with a live loss / accuracy chart and a grid of test digits with their predictions.
 * Built by `build.ts` (esbuild), served by `serve.ts` (`npm run demo`). `window.__demo` exposes
 * progress for the end-to-end test.
 */
import { nn, optim, type Tensor, torch } from "typetorch";

// The few DOM types used here (the project type-checks without lib.dom).
interface Ctx2D {
  fillStyle: string; strokeStyle: string; lineWidth: number; font: string;
  fillRect(x: number, y: number, w: number, h: number): void; clearRect(x: number, y: number, w: number, h: number): void;
  beginPath(): void; moveTo(x: number, y: number): void; lineTo(x: number, y: number): void; stroke(): void;
  fillText(t: string, x: number, y: number): void;
  createImageData(w: number, h: number): { data: Uint8ClampedArray }; putImageData(d: { data: Uint8ClampedArray }, x: number, y: number): void;
}
interface El { textContent: string | null; className: string; innerHTML: string; appendChild(c: El): El; width: number; height: number; getContext(k: "2d"): Ctx2D }
const doc = (globalThis as unknown as { document: { getElementById(id: string): El; createElement(t: string): El } }).document;

/** Progress the end-to-end test reads. */
interface DemoState { device: string; note: string; steps: number; history: { step: number; loss: number; acc: number }[]; error: string | null; done: boolean }
const state: DemoState = { device: "?", note: "", steps: 0, history: [], error: null, done: false };
(globalThis as unknown as { __demo: DemoState }).__demo = state;

const statusEl = doc.getElementById("status");
const chart = doc.getElementById("chart").getContext("2d");
const PIXELS = 784;

async function loadDigits() {
  const buf = await (await fetch("mnist.bin")).arrayBuffer();
  const [nTrain, nTest] = new Uint32Array(buf, 0, 2) as unknown as [number, number];
  let at = 8;
  const take = (n: number) => { const a = new Uint8Array(buf, at, n); at += n; return a; };
  const trainX = take(nTrain * PIXELS), trainY = take(nTrain), testX = take(nTest * PIXELS), testY = take(nTest);
  const floats = (u: Uint8Array) => Float32Array.from(u, (v) => v / 255);
  return { nTrain, nTest, trainX: floats(trainX), trainY, testX: floats(testX), testY, testPixels: testX };
}

function drawChart(): void {
  const W = 560, H = 300, L = 40, R = 40, T = 10, Bm = 30;
  chart.clearRect(0, 0, W, H);
  chart.fillStyle = "#fff";
  chart.fillRect(0, 0, W, H);
  chart.strokeStyle = "#ccd";
  chart.lineWidth = 1;
  chart.beginPath(); chart.moveTo(L, T); chart.lineTo(L, H - Bm); chart.lineTo(W - R, H - Bm); chart.lineTo(W - R, T); chart.stroke();
  const h = state.history;
  if (h.length === 0) return;
  const maxStep = Math.max(h[h.length - 1]!.step, 1);
  const maxLoss = Math.max(...h.map((p) => p.loss), 0.5);
  const x = (s: number) => L + ((W - L - R) * s) / maxStep;
  const line = (color: string, y: (p: (typeof h)[number]) => number) => {
    chart.strokeStyle = color; chart.lineWidth = 2; chart.beginPath();
    h.forEach((p, i) => (i === 0 ? chart.moveTo(x(p.step), y(p)) : chart.lineTo(x(p.step), y(p))));
    chart.stroke();
  };
  line("#d9480f", (p) => H - Bm - ((H - Bm - T) * p.loss) / maxLoss);
  line("#1971c2", (p) => H - Bm - (H - Bm - T) * p.acc);
  chart.fillStyle = "#4a5568"; chart.font = "12px sans-serif";
  chart.fillText(maxLoss.toFixed(1), 4, T + 10); chart.fillText("0", 24, H - Bm);
  chart.fillText("100%", W - R + 4, T + 10); chart.fillText(`step ${maxStep}`, W - R - 50, H - 8);
  const last = h[h.length - 1]!;
  chart.fillText(`loss ${last.loss.toFixed(3)} · accuracy ${(last.acc * 100).toFixed(1)}%`, L + 8, T + 14);
}

function drawDigits(pixels: Uint8Array, labels: Uint8Array, pred: ArrayLike<number>): void {
  const grid = doc.getElementById("digits");
  grid.innerHTML = "";
  for (let i = 0; i < 32; i++) {
    const cell = doc.createElement("div");
    cell.className = "digit";
    const c = doc.createElement("canvas");
    c.width = 28; c.height = 28;
    const ctx = c.getContext("2d");
    const img = ctx.createImageData(28, 28);
    for (let k = 0; k < PIXELS; k++) {
      const v = 255 - pixels[i * PIXELS + k]!;
      img.data[4 * k] = v; img.data[4 * k + 1] = v; img.data[4 * k + 2] = v; img.data[4 * k + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
    const label = doc.createElement("div");
    const ok = pred[i] === labels[i];
    label.className = ok ? "ok" : "bad";
    label.textContent = `${pred[i]}${ok ? " ✓" : ` ✗ (${labels[i]})`}`;
    cell.appendChild(c);
    cell.appendChild(label);
    grid.appendChild(cell);
  }
}

async function main(): Promise<void> {
  let device: "webgpu" | "cpu" = "cpu";
  try {
    const info = await torch.webgpu.init();
    device = "webgpu";
    state.note = info.adapter;
  } catch (e) {
    state.note = `no WebGPU (${(e as Error).message}): training on the CPU`;
  }
  state.device = device;
  statusEl.textContent = `device: ${device} · ${state.note} · loading digits…`;
  const d = await loadDigits();
  torch.manualSeed(0);
  const model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10)).to(device);
  const opt = optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
  const testX = torch.tensor(d.testX).reshape(d.nTest, PIXELS).to(device) as Tensor<[number, 784]>;
  const B = 64;
  const order = Array.from({ length: d.nTrain }, (_, i) => i);
  const evaluate = async (loss: number) => {
    const pred = (await torch.noGrad(() => model(testX).argmax(1)).dataAsync()) as Float64Array;
    let right = 0;
    for (let i = 0; i < d.nTest; i++) if (pred[i] === d.testY[i]) right++;
    state.history.push({ step: state.steps, loss, acc: right / d.nTest });
    drawChart();
    drawDigits(d.testPixels, d.testY, pred);
    statusEl.textContent = `device: ${device} · ${state.note} · step ${state.steps} · test accuracy ${((100 * right) / d.nTest).toFixed(1)}%`;
  };
  await evaluate(Math.log(10));
  for (let epoch = 0; epoch < 3; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (let at = 0; at + B <= d.nTrain; at += B) {
      const xb = new Float32Array(B * PIXELS);
      const yb = new Int32Array(B);
      for (let k = 0; k < B; k++) {
        const s = order[at + k]!;
        xb.set(d.trainX.subarray(s * PIXELS, (s + 1) * PIXELS), k * PIXELS);
        yb[k] = d.trainY[s]!;
      }
      const x = torch.tensor(xb).reshape(B, PIXELS).to(device) as Tensor<[number, 784]>;
      const y = torch.tensor(yb, { dtype: "int64" }).to(device) as Tensor<[number], "int64">;
      opt.zeroGrad();
      const loss = nn.functional.crossEntropy(model(x), y);
      loss.backward();
      opt.step();
      state.steps++;
      if (state.steps % 10 === 0) await evaluate((await loss.itemAsync()) as number);
    }
  }
  state.done = true;
  statusEl.textContent += " · done";
}

main().catch((e: Error) => {
  state.error = `${e.message}\n${e.stack ?? ""}`;
  statusEl.textContent = `error: ${e.message}`;
});
