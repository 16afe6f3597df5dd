#!/usr/bin/env python3
"""The reference for Toolkit's training benchmark in NumPy: the same networks, losses, optimisers and
batch sizes, float32, vectorized by mini-batch (columns are samples, as in the notes), shuffled each
epoch. Prints one JSON line: seconds per epoch (training only), test accuracy per epoch, peak RSS.

Usage: train_numpy.py DATA_DIR CONFIG EPOCHS [SEED]    (CONFIG: small = 784-30-10 sigmoid/quadratic/SGD 3.0/10,
                                                   wide = 784-256-128-10 ReLU/softmax-CE/momentum 0.9, 0.05/128)
"""
import gzip, json, os, resource, sys, time
import numpy as np


def idx(path, offset):
    with gzip.open(path) as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def load(d):
    def part(prefix):
        x = idx(os.path.join(d, prefix + "-images-idx3-ubyte.gz"), 16).reshape(-1, 784).T.astype(np.float32) / 255.0
        y = idx(os.path.join(d, prefix + "-labels-idx1-ubyte.gz"), 8).astype(np.int64)
        return np.ascontiguousarray(x), y
    return part("train"), part("t10k")


def main():
    data, config, epochs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    (x, labels), (xt, yt) = load(data)
    y = np.zeros((10, x.shape[1]), dtype=np.float32)
    y[labels, np.arange(x.shape[1])] = 1.0
    rng = np.random.default_rng(seed)
    if config == "small":
        sizes, batch, lr = [784, 30, 10], 10, 3.0
        W = [rng.standard_normal((o, i)).astype(np.float32) for i, o in zip(sizes[:-1], sizes[1:])]
        b = [rng.standard_normal((o, 1)).astype(np.float32) for o in sizes[1:]]
    else:
        sizes, batch, lr, mu = [784, 256, 128, 10], 128, 0.05, 0.9
        W = [(rng.standard_normal((o, i)) * np.sqrt(2.0 / i)).astype(np.float32) for i, o in zip(sizes[:-1], sizes[1:])]  # He, like Toolkit's default for ReLU
        b = [np.zeros((o, 1), dtype=np.float32) for o in sizes[1:]]
        vW = [np.zeros_like(w) for w in W]
        vb = [np.zeros_like(c) for c in b]
    sig = lambda z: 1.0 / (1.0 + np.exp(-z))
    m = x.shape[1]
    seconds, accuracy = [], []
    for _ in range(epochs):
        order = rng.permutation(m)
        t0 = time.perf_counter()
        for s in range(0, m, batch):
            pick = order[s:s + batch]
            a, yb = x[:, pick], y[:, pick]
            n = a.shape[1]
            acts, zs = [a], []
            for l in range(len(W)):
                z = W[l] @ acts[-1] + b[l]
                zs.append(z)
                if config == "small":
                    acts.append(sig(z))
                elif l < len(W) - 1:
                    acts.append(np.maximum(z, 0))
                else:
                    e = np.exp(z - z.max(axis=0))
                    acts.append(e / e.sum(axis=0))
            if config == "small":
                d = (acts[-1] - yb) * acts[-1] * (1 - acts[-1]) / n
            else:
                d = (acts[-1] - yb) / n
            for l in range(len(W) - 1, -1, -1):
                gW, gb = d @ acts[l].T, d.sum(axis=1, keepdims=True)
                if l > 0:
                    back = W[l].T @ d
                    d = back * acts[l] * (1 - acts[l]) if config == "small" else back * (zs[l - 1] > 0)
                if config == "small":
                    W[l] -= lr * gW
                    b[l] -= lr * gb
                else:
                    vW[l] = mu * vW[l] - lr * gW
                    vb[l] = mu * vb[l] - lr * gb
                    W[l] += vW[l]
                    b[l] += vb[l]
        seconds.append(time.perf_counter() - t0)
        a = xt
        for l in range(len(W)):
            z = W[l] @ a + b[l]
            a = sig(z) if config == "small" else (np.maximum(z, 0) if l < len(W) - 1 else z)
        accuracy.append(float((a.argmax(axis=0) == yt).mean()))
    print(json.dumps({"seconds_per_epoch": seconds, "test_accuracy_per_epoch": accuracy,
                      "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}))


if __name__ == "__main__":
    main()
