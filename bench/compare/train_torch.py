#!/usr/bin/env python3
"""train_torch.py: the PyTorch side of the training-speed comparison.

Builds the same architectures as advc's `cnn` and `resnet` (depth 20, width
16, projection shortcuts) for 1x28x28 inputs, trains on the same kind of
batch (10 steps of Adam, lr 1e-3, cross-entropy) and prints one key=value
line like advc-bench: img_per_s is the median over --reps runs of 10 steps;
max_rss_mb is this process's peak resident memory.  CPU only.  A benchmark
tool: never a dependency of advc.
"""
import argparse
import resource
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Cnn(nn.Module):
    """conv32 5x5 p2 - relu - maxpool2 - conv64 5x5 p2 - relu - maxpool2 -
    fc1024 - relu - fc10 (Madry et al. MNIST network, advc `cnn`)."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 32, 5, padding=2)
        self.c2 = nn.Conv2d(32, 64, 5, padding=2)
        self.f1 = nn.Linear(64 * 7 * 7, 1024)
        self.f2 = nn.Linear(1024, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.c1(x)), 2)
        x = F.max_pool2d(F.relu(self.c2(x)), 2)
        return self.f2(F.relu(self.f1(x.flatten(1))))


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.b1 = nn.BatchNorm2d(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.b2 = nn.BatchNorm2d(cout)
        self.short = None
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False),
                nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.b1(self.c1(x)))
        y = self.b2(self.c2(y))
        return F.relu(y + (x if self.short is None else self.short(x)))


class ResNet(nn.Module):
    """CIFAR-style ResNet-(6n+2), basic blocks, advc `resnet`."""

    def __init__(self, depth=20, width=16, cin=1, classes=10):
        super().__init__()
        n = (depth - 2) // 6
        self.c = nn.Conv2d(cin, width, 3, 1, 1, bias=False)
        self.b = nn.BatchNorm2d(width)
        layers, w = [], width
        for stage, wout in enumerate([width, 2 * width, 4 * width]):
            for i in range(n):
                layers.append(Block(w, wout, 2 if (stage > 0 and i == 0) else 1))
                w = wout
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(w, classes)

    def forward(self, x):
        x = self.layers(F.relu(self.b(self.c(x))))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


def time_runs(run, reps):
    """Warm-up call, then reps timed calls of run().  Returns the median
    seconds per call, the cores kept busy (process CPU time over wall time:
    Debian's torch sends BLAS calls to OpenBLAS, whose threads
    set_num_threads does not limit; the shell scripts pin
    OPENBLAS_NUM_THREADS) and this process's peak RSS in MiB."""
    run()
    times = []
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for _ in range(reps):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    cores = (time.process_time() - cpu0) / (time.perf_counter() - wall0)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return statistics.median(times), cores, rss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="cnn", choices=["cnn", "resnet"])
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=5)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    model = Cnn() if a.model == "cnn" else ResNet()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    steps = 10
    xs = torch.rand(steps, a.batch, 1, 28, 28)
    ys = torch.randint(0, 10, (steps, a.batch))
    model.train()

    def run():
        for s in range(steps):
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(xs[s]), ys[s])
            loss.backward()
            opt.step()
        return float(loss)

    sec, cores, rss = time_runs(run, a.reps)
    print(f"bench=train-torch model={a.model} threads={a.threads} "
          f"batch={a.batch} img_per_s={steps * a.batch / sec:.1f} "
          f"max_rss_mb={rss:.1f} cores_used={cores:.2f} "
          f"torch={torch.__version__}")


if __name__ == "__main__":
    main()
