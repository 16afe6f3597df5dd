#!/usr/bin/env python3
"""The PyTorch reference for Toolkit's training benchmark: the same networks, losses, optimisers and
batch sizes, float32, CPU, shuffled each epoch. Run with OPENBLAS_NUM_THREADS=1 (PyTorch's threads
and OpenBLAS's fight otherwise). Prints one JSON line like train_numpy.py.

Usage: train_torch.py DATA_DIR CONFIG EPOCHS [SEED]
"""
import gzip, json, os, resource, sys, time
import numpy as np
import torch


def idx(path, offset):
    with gzip.open(path) as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def main():
    data, config, epochs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    torch.manual_seed(int(sys.argv[4]) if len(sys.argv) > 4 else 1)
    torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "1")))
    x = torch.tensor(idx(os.path.join(data, "train-images-idx3-ubyte.gz"), 16).reshape(-1, 784), dtype=torch.float32) / 255.0
    labels = torch.tensor(idx(os.path.join(data, "train-labels-idx1-ubyte.gz"), 8), dtype=torch.int64)
    xt = torch.tensor(idx(os.path.join(data, "t10k-images-idx3-ubyte.gz"), 16).reshape(-1, 784), dtype=torch.float32) / 255.0
    yt = torch.tensor(idx(os.path.join(data, "t10k-labels-idx1-ubyte.gz"), 8), dtype=torch.int64)
    if config == "small":
        net = torch.nn.Sequential(torch.nn.Linear(784, 30), torch.nn.Sigmoid(), torch.nn.Linear(30, 10), torch.nn.Sigmoid())
        with torch.no_grad():
            for p in net.parameters():
                p.normal_(0.0, 1.0)
        onehot = torch.nn.functional.one_hot(labels, 10).float()
        loss_fn = lambda out, pick: 0.5 * ((out - onehot[pick]) ** 2).sum(dim=1).mean()
        opt = torch.optim.SGD(net.parameters(), lr=3.0)
        batch = 10
    elif config == "cnn":
        # the convolutional network of docs/convolution.fsx and the accuracy yardstick:
        # conv(32,3,pad=1)-relu-pool(2)-conv(64,3,pad=1)-relu-pool(2)-dense(128)-relu-dropout(0.3)-dense(10)
        x, xt = x.reshape(-1, 1, 28, 28), xt.reshape(-1, 1, 28, 28)
        net = torch.nn.Sequential(
            torch.nn.Conv2d(1, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(32, 64, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Flatten(), torch.nn.Linear(3136, 128), torch.nn.ReLU(), torch.nn.Dropout(0.3), torch.nn.Linear(128, 10))
        ce = torch.nn.CrossEntropyLoss()
        loss_fn = lambda out, pick: ce(out, labels[pick])
        opt = torch.optim.Adam(net.parameters(), lr=0.001)
        batch = 64
    else:
        net = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
        ce = torch.nn.CrossEntropyLoss()
        loss_fn = lambda out, pick: ce(out, labels[pick])
        opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
        batch = 128
    m = x.shape[0]
    seconds, accuracy = [], []
    for _ in range(epochs):
        net.train()
        order = torch.randperm(m)
        t0 = time.perf_counter()
        for s in range(0, m, batch):
            pick = order[s:s + batch]
            opt.zero_grad()
            loss = loss_fn(net(x[pick]), pick)
            loss.backward()
            opt.step()
        seconds.append(time.perf_counter() - t0)
        net.eval()
        with torch.no_grad():
            accuracy.append(float((net(xt).argmax(dim=1) == yt).float().mean()))
    print(json.dumps({"seconds_per_epoch": seconds, "test_accuracy_per_epoch": accuracy,
                      "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}))


if __name__ == "__main__":
    main()
