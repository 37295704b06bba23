import { torch } from "/work/main/runtime/index.js";
for (const n of [128, 256, 512, 1024]) {
const a = torch.randn(n, n), b = torch.randn(n, n);
a.matmul(b);
const t = performance.now(); const r = n >= 1024 ? 1 : 5; for (let i = 0; i < r; i++) a.matmul(b); const dt = (performance.now() - t) / r;
console.log(n, dt.toFixed(2), "ms", (2 * n ** 3 / dt / 1e6).toFixed(2), "GFLOP/s");
}
