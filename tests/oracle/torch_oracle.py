#!/usr/bin/env python3
"""An independent oracle for Toolkit's gradients: PyTorch autograd, float64.

Reads JSON lines {"code": [statements], "env": {var: value}, "out": name} from stdin; each
statement assigns one node (n0 = ..., n1 = ...), variables come from V. Writes one JSON line
per case: {"value": float, "grad": {var: float}}.
"""
import json, sys
import torch

torch.set_default_dtype(torch.float64)

for line in sys.stdin:
    case = json.loads(line)
    V = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in case["env"].items()}
    scope = {"torch": torch, "V": V}
    for stmt in case["code"]:
        exec(stmt, scope)
    out = scope[case["out"]]
    if out.requires_grad:  # a graph of constants only has no gradient to compute
        out.backward()
    grads = {k: (t.grad.item() if t.grad is not None else 0.0) for k, t in V.items()}
    print(json.dumps({"value": out.item(), "grad": grads}), flush=True)
