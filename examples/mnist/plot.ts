/**
 * Training curves: a terminal sparkline (▁▂▃▄▅▆▇█) and a two-panel SVG (loss and accuracy per
 * epoch), written as plain SVG text — no dependencies.
 */

const BARS = "▁▂▃▄▅▆▇█";

/**
 * A sparkline of `values`, scaled between their min and max (a flat series draws mid-height).
 *
 * @example
 * sparkline([2.3, 0.9, 0.5, 0.3]); // "█▃▂▁"
 */
export function sparkline(values: readonly number[]): string {
  if (values.length === 0) return "";
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return values
    .map((v) => {
      const k = hi > lo ? Math.round(((v - lo) / (hi - lo)) * (BARS.length - 1)) : 3;
      return BARS[k];
    })
    .join("");
}

/** The per-epoch history a run produces. */
export interface History {
  trainLoss: number[];
  testLoss: number[];
  /** Percent, 0..100. */
  trainAcc: number[];
  /** Percent, 0..100. */
  testAcc: number[];
}

/**
 * Round ticks covering [lo, hi]: about `target` of them, steps of 1, 2, 2.5 or 5 × 10^k.
 *
 * @example
 * niceTicks(0.04, 0.61); // { lo: 0, hi: 0.7, ticks: [0, 0.1, ..., 0.7] }
 */
export function niceTicks(lo: number, hi: number, target = 5): { lo: number; hi: number; ticks: number[] } {
  if (!(hi > lo)) {
    const pad = Math.abs(lo) > 0 ? Math.abs(lo) * 0.05 : 1;
    lo -= pad;
    hi += pad;
  }
  const raw = (hi - lo) / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag);
  const a = Math.floor(lo / step + 1e-9) * step;
  const b = Math.ceil(hi / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let v = a; v <= b + step * 1e-6; v += step) ticks.push(Number(v.toFixed(10)));
  return { lo: a, hi: b, ticks };
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Up to 6 significant digits, without trailing zeros. */
function fmt(v: number): string {
  return String(Number(v.toPrecision(6)));
}

interface Series {
  name: string;
  values: readonly number[];
  color: string;
  dash?: string;
}

interface Panel {
  title: string;
  yLabel: string;
  series: Series[];
  /** Clamp the axis to this range (e.g. accuracy never above 100). */
  yMin?: number;
  yMax?: number;
  /** How to print the last value in the legend. */
  format: (v: number) => string;
  /** Start the axis at 0 (a loss). */
  fromZero?: boolean;
}

function panelSvg(p: Panel, x0: number, y0: number, w: number, h: number, epochs: number): string {
  // The plot area inside the panel, leaving room for the axis labels.
  const left = x0 + 62;
  const right = x0 + w - 12;
  const top = y0 + 34;
  const bottom = y0 + h - 70;
  const all = p.series.flatMap((s) => s.values).filter(Number.isFinite);
  let lo = p.fromZero ? 0 : all.length ? Math.min(...all) : 0;
  let hi = all.length ? Math.max(...all) : 1;
  if (p.yMin !== undefined) lo = Math.max(p.yMin, lo);
  const t = niceTicks(lo, hi);
  if (p.yMax !== undefined && t.hi > p.yMax) {
    t.hi = p.yMax;
    t.ticks = t.ticks.filter((v) => v <= p.yMax!);
  }
  if (p.yMin !== undefined && t.lo < p.yMin) {
    t.lo = p.yMin;
    t.ticks = t.ticks.filter((v) => v >= p.yMin!);
  }
  ({ lo, hi } = t);
  // A little room left and right, so the first and last dots don't sit on the frame.
  const pad = epochs > 1 ? (epochs - 1) * 0.04 : 0.5;
  const xLo = 1 - pad;
  const xHi = epochs + pad;
  const sx = (e: number) => left + ((e - xLo) / (xHi - xLo)) * (right - left);
  const sy = (v: number) => bottom - ((v - lo) / (hi - lo)) * (bottom - top);
  const out: string[] = [];
  out.push(`<g class="panel">`);
  out.push(`<text x="${x0 + w / 2}" y="${y0 + 20}" text-anchor="middle" font-size="15" font-weight="bold">${esc(p.title)}</text>`);
  out.push(`<rect x="${left}" y="${top}" width="${right - left}" height="${bottom - top}" fill="#fafafa" stroke="none"/>`);
  // y grid and tick labels
  for (const v of t.ticks) {
    const y = sy(v).toFixed(1);
    out.push(`<line x1="${left}" x2="${right}" y1="${y}" y2="${y}" stroke="#e2e2e2"/>`);
    out.push(`<text x="${left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle" font-size="11" fill="#444">${esc(fmt(v))}</text>`);
  }
  // x ticks: every epoch, or a round step when there are many
  const xStep = epochs <= 12 ? 1 : niceTicks(1, epochs, 8).ticks[1]! - niceTicks(1, epochs, 8).ticks[0]!;
  for (let e = 1; e <= epochs; e += 1) {
    if (e !== 1 && e % xStep !== 0) continue;
    const x = sx(e).toFixed(1);
    out.push(`<line x1="${x}" x2="${x}" y1="${bottom}" y2="${bottom + 5}" stroke="#444"/>`);
    out.push(`<text x="${x}" y="${bottom + 18}" text-anchor="middle" font-size="11" fill="#444">${e}</text>`);
  }
  // axes
  out.push(`<line x1="${left}" x2="${left}" y1="${top}" y2="${bottom}" stroke="#444"/>`);
  out.push(`<line x1="${left}" x2="${right}" y1="${bottom}" y2="${bottom}" stroke="#444"/>`);
  out.push(`<text x="${(left + right) / 2}" y="${bottom + 38}" text-anchor="middle" font-size="12">epoch</text>`);
  const cy = (top + bottom) / 2;
  out.push(`<text x="${x0 + 16}" y="${cy}" text-anchor="middle" font-size="12" transform="rotate(-90 ${x0 + 16} ${cy})">${esc(p.yLabel)}</text>`);
  // the series: a line and a dot per epoch
  for (const s of p.series) {
    const pts = s.values.map((v, i) => [sx(i + 1), sy(v)] as const).filter(([, y]) => Number.isFinite(y));
    if (pts.length > 1) {
      const d = pts.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(" ");
      out.push(`<polyline points="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ""}/>`);
    }
    if (epochs <= 40) for (const [x, y] of pts) out.push(`<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="3" fill="${s.color}"/>`);
  }
  // legend: one row under the axis label, with each series' last value
  const items = p.series.map((s) => {
    const last = s.values[s.values.length - 1];
    return { s, text: `${s.name}${last === undefined ? "" : `: ${p.format(last)}`}` };
  });
  const itemW = (text: string) => 28 + text.length * 6.2 + 18; // swatch, text (≈6.2 px a char at 11 px), gap
  let lx = (left + right) / 2 - items.reduce((a, it) => a + itemW(it.text), 0) / 2;
  const ly = bottom + 58;
  for (const { s, text } of items) {
    out.push(`<line x1="${lx.toFixed(1)}" x2="${(lx + 22).toFixed(1)}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ""}/>`);
    out.push(`<circle cx="${(lx + 11).toFixed(1)}" cy="${ly}" r="3" fill="${s.color}"/>`);
    out.push(`<text x="${(lx + 28).toFixed(1)}" y="${ly}" dominant-baseline="middle" font-size="11">${esc(text)}</text>`);
    lx += itemW(text);
  }
  out.push(`</g>`);
  return out.join("\n");
}

/**
 * The curves as an SVG document: loss (train and test) on the left, accuracy (train and test)
 * on the right, per epoch.
 *
 * @example
 * fs.writeFileSync("curves.svg", curvesSvg(history, "MNIST mlp, seed 0"));
 */
export function curvesSvg(h: History, title: string): string {
  const W = 960;
  const H = 420;
  const epochs = Math.max(h.trainLoss.length, h.testLoss.length, h.trainAcc.length, h.testAcc.length);
  const train = "#1f77b4";
  const test = "#d62728";
  const loss = panelSvg(
    {
      title: "Loss per epoch",
      yLabel: "cross-entropy loss",
      series: [
        { name: "train (epoch mean)", values: h.trainLoss, color: train },
        { name: "test", values: h.testLoss, color: test, dash: "6 4" },
      ],
      yMin: 0,
      fromZero: true,
      format: (v) => v.toFixed(4),
    },
    0, 30, W / 2, H - 30, epochs,
  );
  const acc = panelSvg(
    {
      title: "Accuracy per epoch",
      yLabel: "accuracy (%)",
      series: [
        { name: "train (running)", values: h.trainAcc, color: train },
        { name: "test", values: h.testAcc, color: test, dash: "6 4" },
      ],
      yMin: 0,
      yMax: 100,
      format: (v) => `${v.toFixed(2)}%`,
    },
    W / 2, 30, W / 2, H - 30, epochs,
  );
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="24" text-anchor="middle" font-size="17">${esc(title)}</text>`,
    loss,
    acc,
    `</svg>`,
    "",
  ].join("\n");
}
