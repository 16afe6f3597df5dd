#!/usr/bin/env python3
"""PyTorch's forward + backward of each activation on a 256 x 128 float32 tensor (one thread),
the reference for the activation benchmark. Prints one JSON line: {name: ns per element}."""
import json, sys, time
import torch
import torch.nn.functional as F

torch.set_num_threads(1)
rows, cols, reps = 256, 128, 2000
z = (torch.rand(rows, cols) * 6 - 3).requires_grad_()
da = torch.ones(rows, cols)
ops = {
    "sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
    "leakyrelu": lambda x: F.leaky_relu(x, 0.01), "softplus": F.softplus, "elu": F.elu,
    "gelu": F.gelu, "exp": torch.exp, "abs": torch.abs,
}
out = {}
for name, f in ops.items():
    for _ in range(200):
        z.grad = None
        f(z).backward(da)
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(reps // 5):
            z.grad = None
            f(z).backward(da)
        best = min(best, (time.perf_counter() - t) / (reps // 5))
    out[name] = best * 1e9 / (rows * cols)
print(json.dumps(out))
