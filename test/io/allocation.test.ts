/**
 * An untrusted file cannot make the loader allocate more than the file itself: headers that
 * declare huge tensors (gigabytes, backed by a few bytes) are refused before any storage is
 * allocated, and a valid file costs about its own size. Measured with
 * `process.memoryUsage().arrayBuffers` (tensor storage lives in ArrayBuffers).
 */
import { describe, expect, it } from "vitest";
import { torch, ValueError } from "typetorch";
import { loadBytes, saveBytes } from "../../runtime/io/index.js";
import { fileOf } from "./helpers.js";

const MiB = 2 ** 20;
const buffers = (): number => process.memoryUsage().arrayBuffers;

/** Headers whose tensors would need 1 GiB to 8 EiB, each backed by 8 bytes of data. */
const HUGE = [
  '{"a":{"dtype":"F32","shape":[268435456],"data_offsets":[0,1073741824]}}',
  '{"a":{"dtype":"F64","shape":[16384,16384],"data_offsets":[0,2147483648]}}',
  '{"a":{"dtype":"I64","shape":[134217728],"data_offsets":[0,1073741824]}}',
  '{"a":{"dtype":"BOOL","shape":[1073741824],"data_offsets":[0,1073741824]}}',
  '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[268435456],"data_offsets":[8,1073741832]}}',
  '{"a":{"dtype":"F32","shape":[1073741824,1073741824],"data_offsets":[0,8]}}',
  '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', // overlapping
];

describe("no allocation beyond the file size", () => {
  it("huge declared sizes are refused before storage is allocated", () => {
    const before = buffers();
    const t0 = performance.now();
    for (const header of HUGE) {
      const bytes = fileOf(header, new Uint8Array(8));
      expect(() => loadBytes(bytes), header).toThrow(ValueError);
    }
    const ms = performance.now() - t0;
    // Each refused file would have needed at least 1 GiB; all of them together got < 1 MiB.
    expect(buffers() - before).toBeLessThan(MiB);
    expect(ms).toBeLessThan(1000);
  });

  it("a valid file costs about its own size", () => {
    const sd = { w: torch.randn(256, 256), b: torch.zeros(256, { dtype: "int64" }), m: torch.ones(1000, { dtype: "bool" }) };
    const bytes = saveBytes(sd as never);
    const before = buffers();
    const loaded = loadBytes(bytes);
    const grown = buffers() - before;
    const stored = Object.values(loaded).reduce((n, t) => n + (t.data() as ArrayLike<number> & { byteLength: number }).byteLength, 0);
    expect(stored).toBeLessThanOrEqual(bytes.length);
    expect(grown).toBeLessThan(2 * bytes.length + MiB);
  });
});
