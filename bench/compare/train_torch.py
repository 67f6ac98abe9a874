#!/usr/bin/env python3
"""train_torch.py: the PyTorch side of the training-speed comparison.

Builds the same architectures as advc's `cnn-small`, `cnn`, `resnet`
(depth 20, width 16, projection shortcuts) and `msdnet` (the defaults:
3 scales, 5 blocks of one layer, 5 exits) for 1x28x28 inputs, layer for
layer as src/models/ builds them (params= is the parameter count, which
must equal advc's: advc-bench train prints it too), trains on the same
kind of batch (10 steps of Adam, lr 1e-3, cross-entropy summed over the
exits) and prints one key=value line like advc-bench: img_per_s is the
median over --reps runs of 10 steps; max_rss_mb is this process's peak
resident memory.  CPU only.  A benchmark tool: never a dependency of
advc.
"""
import argparse
import resource
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class CnnSmall(nn.Module):
    """conv16 4x4/2 p1 - relu - conv32 4x4/2 p1 - relu - fc100 - relu -
    fc10 (Wong et al.'s fast-AT MNIST network, advc `cnn-small`)."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 16, 4, 2, 1)
        self.c2 = nn.Conv2d(16, 32, 4, 2, 1)
        self.f1 = nn.Linear(32 * 7 * 7, 100)
        self.f2 = nn.Linear(100, 10)

    def forward(self, x):
        x = F.relu(self.c2(F.relu(self.c1(x))))
        return self.f2(F.relu(self.f1(x.flatten(1))))


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


def conv_bn(cin, cout, k, stride, pad, act=True):
    """conv (no bias) - BN - relu, as advc's mb_conv_bn."""
    layers = [nn.Conv2d(cin, cout, k, stride, pad, bias=False),
              nn.BatchNorm2d(cout)]
    if act:
        layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class MsdPath(nn.Module):
    """[1x1 bottleneck to min(cin, bnf*nout)] - 3x3 conv to nout."""

    def __init__(self, cin, nout, bnf, stride):
        super().__init__()
        inner = min(cin, bnf * nout)
        self.body = nn.Sequential(conv_bn(cin, inner, 1, 1, 0),
                                  conv_bn(inner, nout, 3, stride, 1))

    def forward(self, x):
        return self.body(x)


class MsdLayer(nn.Module):
    """Output scale i: concat(x_i, normal(x_i), down(x_{i-1}))."""

    def __init__(self, cin, cin_prev, g, bnf, bnf_prev, with_down):
        super().__init__()
        self.normal = MsdPath(cin, g // 2 if with_down else g, bnf, 1)
        self.down = (MsdPath(cin_prev, g // 2, bnf_prev, 2)
                     if with_down else None)

    def forward(self, x, prev):
        parts = [x, self.normal(x)]
        if self.down is not None:
            parts.append(self.down(prev))
        return torch.cat(parts, 1)


class MsdNet(nn.Module):
    """advc's `msdnet` with its defaults (src/models/msdnet.c): scales 3,
    blocks 5, step 1, base 16, growth 6, grfactor = bnfactor = 1-2-4,
    bottleneck, prune max, reduction 0.5, head 128; one exit per block
    (conv3x3/2 - conv3x3/2 - global pool - fc)."""

    def __init__(self, blocks=5, S=3, base=16, growth=6, head=128,
                 classes=10):
        super().__init__()
        gr, bnf = [1, 2, 4], [1, 2, 4]
        self.first = nn.ModuleList()
        ch, cin = [], 1
        for i in range(S):
            self.first.append(conv_bn(cin, base * gr[i], 3, 2 if i else 1, 1))
            cin = base * gr[i]
            ch.append(cin)
        nall = blocks  # first = step = 1 layer per block
        interval = (nall + S - 1) // S
        self.plan = []  # per layer: (off, dropped, trans)
        self.layers = nn.ModuleList()
        self.trans = nn.ModuleList()
        self.exits = nn.ModuleList()
        k, l = base, 0
        for _ in range(blocks):
            l += 1
            in_s = S - max(l - 2, 0) // interval
            out_s = S - (l - 1) // interval
            off, dropped = S - out_s, in_s > out_s
            scales = nn.ModuleList()
            new_ch = list(ch)
            for i in range(off, S):
                down = i > off or dropped
                g = growth * gr[i]
                assert ch[i] == k * gr[i]
                scales.append(MsdLayer(ch[i], ch[i - 1] if down else 0, g,
                                       bnf[i], bnf[i - 1], down))
                new_ch[i] = ch[i] + g
            self.layers.append(scales)
            ch = new_ch
            k += growth
            t = None
            if dropped:
                kt = int(0.5 * k)
                t = nn.ModuleList(conv_bn(ch[i], kt * gr[i], 1, 1, 0)
                                  for i in range(off, S))
                for i in range(off, S):
                    ch[i] = kt * gr[i]
                k = kt
            self.trans.append(t if t is not None else nn.ModuleList())
            self.plan.append((off, dropped))
            self.exits.append(nn.Sequential(
                conv_bn(ch[S - 1], head, 3, 2, 1),
                conv_bn(head, head, 3, 2, 1),
                nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                nn.Linear(head, classes)))
        self.S = S

    def forward(self, x):
        xs = []
        for f in self.first:
            x = f(x)
            xs.append(x)
        outs = []
        for layer, trans, (off, _), ex in zip(self.layers, self.trans,
                                               self.plan, self.exits):
            ys = list(xs)
            for j, i in enumerate(range(off, self.S)):
                ys[i] = layer[j](xs[i], xs[i - 1] if i > 0 else None)
            xs = ys
            for j, i in enumerate(range(off, self.S)):
                if len(trans):
                    xs[i] = trans[j](xs[i])
            outs.append(ex(xs[self.S - 1]))
        return outs


MODELS = {"cnn-small": CnnSmall, "cnn": lambda: Cnn(),
          "resnet": lambda: ResNet(), "msdnet": lambda: MsdNet()}


def build(name):
    return MODELS[name]()


def loss_fn(out, y):
    """Cross-entropy, summed over the exits of a multi-exit model (advc's
    exit weights are all 1)."""
    if isinstance(out, list):
        return sum(F.cross_entropy(o, y) for o in out)
    return F.cross_entropy(out, y)


def final_logits(out):
    return out[-1] if isinstance(out, list) else out


def nparams(model):
    return sum(p.numel() for p in model.parameters())


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
    ap.add_argument("--model", default="cnn", choices=sorted(MODELS))
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=5)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    model = build(a.model)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    steps = 10
    xs = torch.rand(steps, a.batch, 1, 28, 28)
    ys = torch.randint(0, 10, (steps, a.batch))
    model.train()

    def run():
        for s in range(steps):
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xs[s]), ys[s])
            loss.backward()
            opt.step()
        return float(loss)

    sec, cores, rss = time_runs(run, a.reps)
    print(f"bench=train-torch model={a.model} threads={a.threads} "
          f"batch={a.batch} params={nparams(model)} "
          f"img_per_s={steps * a.batch / sec:.1f} "
          f"max_rss_mb={rss:.1f} cores_used={cores:.2f} "
          f"torch={torch.__version__}")


if __name__ == "__main__":
    main()
