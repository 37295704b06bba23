"""PyTorch peer of bench/training.ts: MNIST MLP / CNN training throughput (samples/s).

argv[1]: JSON {"data": path, "n": N, "models": [...], "batch": {...}, "sampleS": s, "samples": k, "threads": t}
The data file holds N·784 float32 pixels then N int32 labels (written by training.ts).
Prints one JSON line: {"ok": true, "mlp": {...}, "cnn": {...}}.
"""
import json, sys, time

def main():
    cfg = json.loads(sys.argv[1])
    try:
        import numpy as np
        import torch
        from torch import nn
    except Exception as e:  # noqa: BLE001
        print(json.dumps({"ok": False, "error": f"import failed: {e}"}))
        return
    torch.set_num_threads(cfg["threads"])
    torch.manual_seed(0)
    n = cfg["n"]
    raw = open(cfg["data"], "rb").read()
    X = torch.from_numpy(np.frombuffer(raw, dtype=np.float32, count=n * 784).copy())
    Y = torch.from_numpy(np.frombuffer(raw, dtype=np.int32, count=n, offset=n * 784 * 4).astype(np.int64))
    out = {"ok": True, "version": torch.__version__, "threads": torch.get_num_threads()}
    for name in cfg["models"]:
        bs = cfg["batch"][name]
        if name == "mlp":
            model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
            xs = X.view(n, 784)
        else:
            model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                  nn.Flatten(), nn.Linear(1568, 128), nn.ReLU(), nn.Linear(128, 10))
            xs = X.view(n, 1, 28, 28)
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        loss_fn = nn.CrossEntropyLoss()
        nb = n // bs
        batches = [(xs[i * bs:(i + 1) * bs].contiguous(), Y[i * bs:(i + 1) * bs].contiguous()) for i in range(nb)]
        state = {"i": 0, "loss": 0.0}
        def step():
            x, y = batches[state["i"] % nb]
            state["i"] += 1
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            return loss
        first = float(step())
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < cfg["sampleS"]:
            step()
        rates = []
        for _ in range(cfg["samples"]):
            t0 = time.perf_counter(); k = 0
            while True:
                step(); k += 1
                dt = time.perf_counter() - t0
                if dt >= cfg["sampleS"]:
                    break
            rates.append(k * bs / dt)
        rates.sort()
        last = float(step())
        out[name] = {"samplesPerS": rates[len(rates) // 2], "firstLoss": first, "lastLoss": last, "steps": state["i"]}
    print(json.dumps(out))

main()
