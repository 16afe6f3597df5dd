#!/usr/bin/env python3
"""The notes' logistic-regression programs in Python, for the speed-up the notes talk about:
(a) two nested loops over samples and features, (b) one loop with a NumPy vector dw,
(c) fully vectorized NumPy. One gradient step each on the same data as Toolkit's benchmark
(m samples × n features, float64). Prints one JSON line: seconds per step for each program.

Usage: logreg_numpy.py IMAGES_IDX_GZ LABELS_IDX_GZ M
"""
import gzip, json, math, sys, time
import numpy as np


def load(images, labels, m):
    with gzip.open(images) as f:
        x = np.frombuffer(f.read(), dtype=np.uint8, offset=16)[: m * 784].reshape(m, 784).T / 255.0
    with gzip.open(labels) as f:
        y = (np.frombuffer(f.read(), dtype=np.uint8, offset=8)[:m] >= 5).astype(np.float64)
    return np.ascontiguousarray(x), y


def loops(x, y, w, b):
    n, m = x.shape
    X, W = x.tolist(), w.tolist()  # plain Python numbers, as the notes' loops use
    J, db = 0.0, 0.0
    dw = [0.0] * n
    for i in range(m):
        z = b
        for j in range(n):
            z += W[j] * X[j][i]
        a = 1.0 / (1.0 + math.exp(-z))
        J += max(z, 0.0) - z * y[i] + math.log1p(math.exp(-abs(z)))
        dz = a - y[i]
        for j in range(n):
            dw[j] += X[j][i] * dz
        db += dz
    return J / m, [d / m for d in dw], db / m


def one_loop(x, y, w, b):
    n, m = x.shape
    J, db = 0.0, 0.0
    dw = np.zeros(n)
    for i in range(m):
        z = w @ x[:, i] + b
        a = 1.0 / (1.0 + math.exp(-z))
        J += max(z, 0.0) - z * y[i] + math.log1p(math.exp(-abs(z)))
        dz = a - y[i]
        dw += x[:, i] * dz
        db += dz
    return J / m, dw / m, db / m


def vectorized(x, y, w, b):
    m = x.shape[1]
    Z = w @ x + b
    A = 1.0 / (1.0 + np.exp(-Z))
    J = np.mean(np.maximum(Z, 0) - Z * y + np.log1p(np.exp(-np.abs(Z))))
    dZ = A - y
    return J, x @ dZ / m, dZ.mean()


def timed(f, reps):
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2]


def main():
    x, y = load(sys.argv[1], sys.argv[2], int(sys.argv[3]))
    w = np.array([0.001 * ((i % 7) - 3) for i in range(x.shape[0])])
    b = 0.1
    ref = vectorized(x, y, w, b)
    out = {"loops": timed(lambda: loops(x, y, w, b), 1),
           "one_loop": timed(lambda: one_loop(x, y, w, b), 3),
           "vectorized": timed(lambda: vectorized(x, y, w, b), 21),
           "max_dw_difference": float(np.max(np.abs(np.array(loops(x, y, w, b)[1]) - ref[1])))}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
