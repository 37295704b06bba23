"""PyTorch column of `npm run bench` (bench/run.ts runs this as a child process).

Reads one JSON object from argv[1]:
  {"sizes": [128, ...], "warmupMs": 200, "sampleMs": 100, "samples": 5, "threads": 1, "tiny": true}
and prints one JSON object on stdout. Timing is the same method as bench/run.ts: warm up for at
least `warmupMs` (and at least one call), pick a loop count so one sample lasts >= `sampleMs`,
take `samples` samples, report the median time per call.

Thread counts are fixed by the parent through OMP_NUM_THREADS / OPENBLAS_NUM_THREADS /
MKL_NUM_THREADS (read when the libraries load) and torch.set_num_threads here.
"""

import json
import sys
import time


def measure(fn, warmup_ms, sample_ms, samples):
    calls = 0
    w0 = time.perf_counter()
    while True:
        fn()
        calls += 1
        if (time.perf_counter() - w0) * 1e3 >= warmup_ms:
            break
    per = (time.perf_counter() - w0) * 1e3 / calls
    iters = max(1, int(-(-sample_ms // max(per, 1e-6))))
    times = []
    for _ in range(samples):
        t0 = time.perf_counter()
        for _ in range(iters):
            fn()
        times.append((time.perf_counter() - t0) * 1e3 / iters)
    times.sort()
    n = len(times)
    med = times[n // 2] if n % 2 else (times[n // 2 - 1] + times[n // 2]) / 2
    return {"medianMs": med, "iters": iters, "samples": n, "minMs": times[0], "maxMs": times[-1]}


def blas_libraries():
    """Shared libraries mapped into this process whose name says BLAS/LAPACK/MKL."""
    libs = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 6:
                    p = parts[5]
                    low = p.lower()
                    if "blas" in low or "lapack" in low or "libmkl" in low:
                        libs.add(p)
    except OSError:
        pass
    return sorted(libs)


def main():
    cfg = json.loads(sys.argv[1])
    try:
        import torch
    except Exception as e:  # noqa: BLE001
        print(json.dumps({"ok": False, "error": "import torch failed: %s" % e}))
        return
    threads = int(cfg.get("threads", 1))
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    config = torch.__config__.show()
    blas_info = ""
    for part in config.replace("\n", ",").split(","):
        if "BLAS_INFO" in part:
            blas_info = part.strip()
    out = {
        "ok": True,
        "version": torch.__version__,
        "threads": torch.get_num_threads(),
        "blasInfo": blas_info,
        "mkldnn": "MKL-DNN" in config,
        "cpuCapability": next((l.strip() for l in config.splitlines() if "CPU capability" in l), ""),
        "matmul": {},
    }
    w, s, k = cfg["warmupMs"], cfg["sampleMs"], cfg["samples"]
    with torch.no_grad():
        for n in cfg["sizes"]:
            a = torch.randn(n, n, dtype=torch.float32)
            b = torch.randn(n, n, dtype=torch.float32)
            # Sanity check against a float64 product, so a broken install can't post a number.
            c = a.matmul(b)
            ref = a.double().matmul(b.double())
            bound = a.double().abs().matmul(b.double().abs())
            err = float(((c.double() - ref).abs() / bound).max())
            t = measure(lambda: a.matmul(b), w, s, k)
            t["gflops"] = 2 * n ** 3 / (t["medianMs"] * 1e-3) / 1e9
            t["maxNormErr"] = err
            out["matmul"][str(n)] = t
    # Mapped after the first sgemm call, so the library that really ran is listed.
    out["blasLibraries"] = blas_libraries()
    out["openblas"] = any("openblas" in p.lower() for p in out["blasLibraries"])
    for p in out["blasLibraries"]:
        if "libopenblas" in p:
            try:
                import ctypes

                lib = ctypes.CDLL(p)
                lib.openblas_get_corename.restype = ctypes.c_char_p
                lib.openblas_get_config.restype = ctypes.c_char_p
                out["openblasCore"] = lib.openblas_get_corename().decode()
                out["openblasConfig"] = lib.openblas_get_config().decode()
            except Exception:  # noqa: BLE001
                pass
    if cfg.get("tiny"):
        ts, tk = cfg["tinySampleMs"], cfg["samples"]
        a = torch.tensor([1.5, -0.5])
        b = torch.tensor([0.25, 2.0])
        out["addUs"] = measure(lambda: a.add(b), w, ts, tk)["medianMs"] * 1e3
        ag = torch.tensor([1.5, -0.5], requires_grad=True)

        def fwd_bwd():
            ag.grad = None
            ag.mul(b).sum().backward()

        out["mulSumBackwardUs"] = measure(fwd_bwd, w, ts, tk)["medianMs"] * 1e3
    try:
        import resource

        ru = resource.getrusage(resource.RUSAGE_SELF)
        out["cpuSeconds"] = ru.ru_utime + ru.ru_stime
    except Exception:  # noqa: BLE001
        pass
    print(json.dumps(out))


if __name__ == "__main__":
    main()
