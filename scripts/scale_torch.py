#!/usr/bin/env python3
"""PyTorch's side of Toolkit's scaling benchmark: for each network and batch size, the seconds one
epoch of Fashion-MNIST takes (ReLU hidden layers, softmax cross-entropy, SGD with momentum 0.9,
float32, CPU), timed over windows of the given number of samples after a warm-up (the median window), scaled
to 60,000 samples.
Run with OPENBLAS_NUM_THREADS=1; TORCH_THREADS sets PyTorch's own threads (default 1).
Prints one JSON line per configuration.

Usage: scale_torch.py DATA_DIR LAYERS:BATCH:SAMPLES:WINDOWS ...   (e.g. 784-256-128-10:128:15360:3)
"""
import gzip, json, os, sys, time
import numpy as np
import torch


def idx(path, offset):
    with gzip.open(path) as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def main():
    data = sys.argv[1]
    torch.manual_seed(1)
    torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "1")))
    x = torch.tensor(idx(os.path.join(data, "train-images-idx3-ubyte.gz"), 16).reshape(-1, 784), dtype=torch.float32) / 255.0
    labels = torch.tensor(idx(os.path.join(data, "train-labels-idx1-ubyte.gz"), 8), dtype=torch.int64)
    m = x.shape[0]
    for spec in sys.argv[2:]:
        layers, batch, samples, windows = spec.split(":")
        sizes, batch, samples, windows = [int(s) for s in layers.split("-")], int(batch), int(samples), int(windows)
        modules = []
        for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
            modules.append(torch.nn.Linear(n_in, n_out))
            if i < len(sizes) - 2:
                modules.append(torch.nn.ReLU())
        net = torch.nn.Sequential(*modules)
        ce = torch.nn.CrossEntropyLoss()
        opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
        order = torch.randperm(m)

        def step(s):
            s %= m - batch
            pick = order[s:s + batch]
            opt.zero_grad()
            ce(net(x[pick]), labels[pick]).backward()
            opt.step()

        for k in range(5):
            step(k * batch)
        steps = max(1, samples // batch)
        times = []
        for w in range(windows):
            t0 = time.perf_counter()
            for k in range(w * steps, (w + 1) * steps):
                step(k * batch)
            times.append((time.perf_counter() - t0) * m / (steps * batch))
        print(json.dumps({"layers": layers, "batch": batch,
                          "seconds_per_epoch": sorted(times)[windows // 2]}), flush=True)


if __name__ == "__main__":
    main()
