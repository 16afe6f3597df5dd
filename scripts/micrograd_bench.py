#!/usr/bin/env python3
"""A scalar autograd engine in micrograd's design (one Value object per node, a closure per op
holding its local chain rule, a topological sort, then the closures in reverse), run on the same
graphs as Toolkit's benchmark. The only change from micrograd: the topological sort is iterative,
because micrograd's recursive one cannot walk a chain of 10^6 nodes. With the engine "torch", the
same graphs are built from PyTorch's 0-d float64 tensors (requires_grad) and differentiated by
PyTorch's autograd, one tensor per node like one Value per node.

Prints one JSON line: {"graph", "nodes", "seconds" (median), "nodes_per_second", "peak_rss_mb", "value", "grad0"}.
Usage: micrograd_bench.py chain|wide|neuron NODES [REPEATS] [micrograd|torch] [MIN_SECONDS]
(at least REPEATS runs, and more until the runs took MIN_SECONDS in all)
"""
import gc, json, math, resource, sys, time


class Value:
    __slots__ = ("data", "grad", "_backward", "_prev")

    def __init__(self, data, children=()):
        self.data = data
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = children

    def __add__(self, other):
        out = Value(self.data + other.data, (self, other))
        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        out = Value(self.data * other.data, (self, other))
        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def tanh(self):
        t = math.tanh(self.data)
        out = Value(t, (self,))
        def _backward():
            self.grad += (1.0 - t * t) * out.grad
        out._backward = _backward
        return out

    def backward(self):
        topo, visited = [], set()
        stack = [(self, False)]
        while stack:
            v, expanded = stack.pop()
            if expanded:
                topo.append(v)
            elif id(v) not in visited:
                visited.add(id(v))
                stack.append((v, True))
                for c in v._prev:
                    if id(c) not in visited:
                        stack.append((c, False))
        self.grad = 1.0
        for v in reversed(topo):
            v._backward()


def chain(n, leaf=Value):
    """n operation nodes: alternately tanh(x) and x*w, w shared."""
    x, w = leaf(0.5), leaf(1.0001)
    v = x
    for k in range(n):
        v = v.tanh() if k % 2 == 0 else v * w
    return v, x


def wide(n, leaf=Value, width=1000):
    """Layers of width 1000, every node used three times: r_i = tanh(p_i * p_(i+1) + p_(i+2))
    (indices mod W); then a sum. About n operation nodes."""
    xs = [leaf(0.5 + 0.4 * math.sin(i)) for i in range(width)]
    p = xs
    layers = max(1, (n - width) // (3 * width))
    for _ in range(layers):
        p = [(p[i] * p[(i + 1) % width] + p[(i + 2) % width]).tanh() for i in range(width)]
    out = p[0]
    for v in p[1:]:
        out = out + v
    return out, xs[0]


def neuron(n, leaf=Value):
    """micrograd's neuron with n/3 weights: s = sum of w_i * x_i, then tanh(s) * tanh(s)."""
    k = max(1, n // 3)
    ws = [leaf(math.sin(i)) for i in range(k)]
    s = leaf(0.0)
    for i in range(k):
        s = s + ws[i] * leaf(math.cos(i))
    return s.tanh() * s.tanh(), ws[0]


def main():
    graph, n = sys.argv[1], int(sys.argv[2])
    repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    engine = sys.argv[4] if len(sys.argv) > 4 else "micrograd"
    min_seconds = float(sys.argv[5]) if len(sys.argv) > 5 else 0.0
    if engine == "torch":
        import torch
        torch.set_num_threads(1)
        leaf = lambda v: torch.tensor(v, dtype=torch.float64, requires_grad=True)
        number = lambda t: float(t.item())
    else:
        leaf, number = Value, float
    gc.disable()  # micrograd's best case
    times = []
    while len(times) < repeats or sum(times) < min_seconds:
        t0 = time.perf_counter()
        out, x0 = {"chain": chain, "wide": wide, "neuron": neuron}[graph](n, leaf)
        out.backward()
        times.append(time.perf_counter() - t0)
        value, grad0 = number(out.data), number(x0.grad)
        del out, x0
        gc.collect()
    times.sort()
    median = times[len(times) // 2]
    print(json.dumps({
        "graph": graph, "nodes": n, "seconds": median, "nodes_per_second": n / median,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "value": value, "grad0": grad0}))


if __name__ == "__main__":
    main()
