#!/usr/bin/env python3
"""torch_models.py: advc's built-in models as PyTorch modules, and their
weights both ways through numpy.savez archives (`advc export` /
`advc import`).

Every module's state_dict has exactly the keys, dtypes and shapes of the
name table in src/models/torch_names.c (`advc import --model SPEC --list`
prints it), in the order `advc export` writes them, so

    import torch_models as tm
    model = tm.load_npz("m.npz", "cnn-small")      # eval mode, strict load
    logits = model(x)             # x: (n, c, h, w) float32 in [0, 1]
    tm.save_npz(model, "t.npz")   # then: advc import --npz t.npz ...

and an archive that goes torch -> advc -> torch comes back byte for byte.
build(spec, act, input, classes) makes a fresh model; spec is advc's
"name[:key=value,...]" with the same keys and defaults (advc train --help).
Multi-exit models (msdnet) return the final exit's logits from forward()
and every exit's from forward_exits().  Inputs are not normalised: advc
models see [0, 1] pixels.

Benchmark and interop side only: advc never imports this or needs PyTorch.
"""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# ---- specs and activations -------------------------------------------------


def parse_spec(spec):
    """'resnet:depth=8,preact=1' -> ('resnet', {'depth': '8', ...})."""
    name, _, rest = spec.partition(":")
    kv = {}
    for item in rest.split(",") if rest else []:
        k, eq, v = item.partition("=")
        if not eq or not k or not v or k in kv:
            raise ValueError(f"model '{spec}': bad item '{item}'")
        kv[k] = v
    return name, kv


class Keys:
    """Typed access to a spec's keys, rejecting any the model does not
    know (as advc does)."""

    def __init__(self, spec, kv, allowed):
        unknown = set(kv) - set(allowed)
        if unknown:
            raise ValueError(f"model '{spec}': unknown key(s) "
                             f"{sorted(unknown)}")
        self.kv = kv

    def int(self, k, d):
        return int(self.kv[k]) if k in self.kv else d

    def float32(self, k, d):
        # advc reads these with strtof: keep float32 rounding
        return float(np.float32(self.kv[k] if k in self.kv else d))

    def bool(self, k, d):
        if k not in self.kv:
            return d
        return self.kv[k] in ("1", "on", "true")

    def list(self, k, d):
        return [int(v) for v in self.kv[k].split("-")] if k in self.kv else d

    def str(self, k, d):
        return self.kv.get(k, d)


def make_act(act):
    """advc's --act as a module: relu, softplus, psoftplus[:a] ((1/a)
    log(1 + e^(a x)), a = 10 by default), silu, gelu (exact erf), elu,
    sigmoid, tanh, identity."""
    name, _, arg = act.partition(":")
    if name == "psoftplus":
        return nn.Softplus(beta=float(np.float32(arg or 10)))
    table = {"relu": nn.ReLU, "softplus": nn.Softplus, "silu": nn.SiLU,
             "gelu": nn.GELU, "elu": nn.ELU, "sigmoid": nn.Sigmoid,
             "tanh": nn.Tanh, "identity": nn.Identity}
    if name not in table or arg:
        raise ValueError(f"activation '{act}': unknown")
    return table[name]()


def put(root, path, module):
    """Registers module under the dotted path ("stage2.block0.short.conv"),
    creating empty container modules on the way, so the state_dict keys
    are advc's layer names.  Call in advc's build order: the state_dict
    then lists keys in the order advc export writes them."""
    parts = path.split(".")
    node = root
    for p in parts[:-1]:
        if not hasattr(node, p):
            node.add_module(p, nn.Module())
        node = getattr(node, p)
    node.add_module(parts[-1], module)
    return module


def conv_bn(root, base, i, cin, cout, k, stride, pad):
    """advc's mb_conv_bn: a conv without bias "<base>.conv<i>" and a batch
    norm "<base>.bn<i>" ("<base>.conv", "<base>.bn" for i = 0); returns
    the two paths.  Forward passes look modules up by path (run()), so
    models survive copy.deepcopy and .to()."""
    s = str(i) if i else ""
    put(root, f"{base}.conv{s}", nn.Conv2d(cin, cout, k, stride, pad,
                                           bias=False))
    put(root, f"{base}.bn{s}", nn.BatchNorm2d(cout))
    return (f"{base}.conv{s}", f"{base}.bn{s}")


def run(root, paths, x):
    """x through the modules at paths, in order."""
    for p in paths:
        x = root.get_submodule(p)(x)
    return x


def conv_out(n, k, stride, pad):
    return (n + 2 * pad - k) // stride + 1

# ---- the simple chains ------------------------------------------------------


class Linear(nn.Module):
    """linear: flatten - fc."""

    def __init__(self, keys, act, inp, classes):
        super().__init__()
        self.fc = nn.Linear(math.prod(inp), classes)

    def forward(self, x):
        return self.fc(x.flatten(1))


class Mlp(nn.Module):
    """mlp[:hidden=256-256,dropout=0]: flatten - [fc<i> - act - dropout] -
    fc."""

    def __init__(self, keys, act, inp, classes):
        super().__init__()
        self.hidden = []
        n = math.prod(inp)
        for i, h in enumerate(keys.list("hidden", [256, 256])):
            self.hidden.append(put(self, f"fc{i + 1}", nn.Linear(n, h)))
            n = h
        self.fc = nn.Linear(n, classes)
        self.act = make_act(act)
        self.drop = nn.Dropout(keys.float32("dropout", 0))

    def forward(self, x):
        x = x.flatten(1)
        for fc in self.hidden:
            x = self.drop(self.act(fc(x)))
        return self.fc(x)


class Maxout(nn.Module):
    """maxout[:units=240,pieces=5,layers=2,dropout=0.5,indrop=0.2]:
    flatten - dropout(indrop) - [maxout<i> - dropout] - fc.  maxout<i> is
    Linear(in, units*pieces) whose row u*pieces + j is piece j of unit u."""

    def __init__(self, keys, act, inp, classes):
        super().__init__()
        self.units = keys.int("units", 240)
        self.pieces = keys.int("pieces", 5)
        self.layers = []
        n = math.prod(inp)
        for i in range(keys.int("layers", 2)):
            self.layers.append(put(self, f"maxout{i + 1}",
                                   nn.Linear(n, self.units * self.pieces)))
            n = self.units
        self.fc = nn.Linear(n, classes)
        self.indrop = nn.Dropout(keys.float32("indrop", 0.2))
        self.drop = nn.Dropout(keys.float32("dropout", 0.5))

    def forward(self, x):
        x = self.indrop(x.flatten(1))
        for m in self.layers:
            z = m(x).view(x.shape[0], self.units, self.pieces)
            x = self.drop(z.amax(2))
        return self.fc(x)


class CnnSmall(nn.Module):
    """cnn-small (Wong et al.'s fast-AT MNIST net): conv1 16 4x4/2 p1 -
    act - conv2 32 4x4/2 p1 - act - flatten - fc1 100 - act - fc."""

    def __init__(self, keys, act, inp, classes):
        super().__init__()
        c, h, w = inp
        h2 = conv_out(conv_out(h, 4, 2, 1), 4, 2, 1)
        w2 = conv_out(conv_out(w, 4, 2, 1), 4, 2, 1)
        self.conv1 = nn.Conv2d(c, 16, 4, 2, 1)
        self.conv2 = nn.Conv2d(16, 32, 4, 2, 1)
        self.fc1 = nn.Linear(32 * h2 * w2, 100)
        self.fc = nn.Linear(100, classes)
        self.act = make_act(act)

    def forward(self, x):
        x = self.act(self.conv2(self.act(self.conv1(x))))
        return self.fc(self.act(self.fc1(x.flatten(1))))


class Cnn(nn.Module):
    """cnn (Madry et al.'s MNIST net): conv1 32 5x5 p2 - act - maxpool 2 -
    conv2 64 5x5 p2 - act - maxpool 2 - flatten - fc1 1024 - act - fc."""

    def __init__(self, keys, act, inp, classes):
        super().__init__()
        c, h, w = inp
        self.conv1 = nn.Conv2d(c, 32, 5, 1, 2)
        self.conv2 = nn.Conv2d(32, 64, 5, 1, 2)
        self.fc1 = nn.Linear(64 * (h // 2 // 2) * (w // 2 // 2), 1024)
        self.fc = nn.Linear(1024, classes)
        self.act = make_act(act)

    def forward(self, x):
        x = F.max_pool2d(self.act(self.conv1(x)), 2)
        x = F.max_pool2d(self.act(self.conv2(x)), 2)
        return self.fc(self.act(self.fc1(x.flatten(1))))

# ---- resnet -----------------------------------------------------------------


class ResNet(nn.Module):
    """resnet[:depth=20,width=16,preact=0,blocks=...] as src/models/resnet.c:
    basic blocks, 1x1 projection shortcuts where the shape changes, global
    average pool, fc.  preact=1: pre-activation blocks, final.bn."""

    def __init__(self, keys, act, inp, classes):
        super().__init__()
        width = keys.int("width", 16)
        self.preact = keys.bool("preact", False)
        if "blocks" in keys.kv:
            blocks = keys.list("blocks", None)
        else:
            blocks = [(keys.int("depth", 20) - 2) // 6] * 3
        self.act = make_act(act)
        if self.preact:
            put(self, "stem.conv", nn.Conv2d(inp[0], width, 3, 1, 1,
                                             bias=False))
        else:
            conv_bn(self, "stem", 0, inp[0], width, 3, 1, 1)
        self.blocks = []   # (path, has a projection shortcut)
        cin = width
        for s, nb in enumerate(blocks):
            cout = width << s
            for j in range(nb):
                stride = 2 if s > 0 and j == 0 else 1
                base = f"stage{s + 1}.block{j}"
                short = stride != 1 or cin != cout
                self._block(base, cin, cout, stride, short)
                self.blocks.append((base, short))
                cin = cout
        if self.preact:
            put(self, "final.bn", nn.BatchNorm2d(cin))
        self.fc = nn.Linear(cin, classes)

    def _block(self, base, cin, cout, stride, short):
        """Registers one block's layers in advc's order."""
        if not self.preact:
            conv_bn(self, base, 1, cin, cout, 3, stride, 1)
            conv_bn(self, base, 2, cout, cout, 3, 1, 1)
            if short:
                conv_bn(self, f"{base}.short", 0, cin, cout, 1, stride, 0)
            return
        put(self, f"{base}.bn1", nn.BatchNorm2d(cin))
        put(self, f"{base}.conv1", nn.Conv2d(cin, cout, 3, stride, 1,
                                             bias=False))
        put(self, f"{base}.bn2", nn.BatchNorm2d(cout))
        put(self, f"{base}.conv2", nn.Conv2d(cout, cout, 3, 1, 1,
                                             bias=False))
        if short:
            put(self, f"{base}.short.conv", nn.Conv2d(cin, cout, 1, stride,
                                                      0, bias=False))

    def _post(self, b, short, x):
        """conv1-bn1-act-conv2-bn2 (+ shortcut) - act."""
        y = run(self, (f"{b}.conv1", f"{b}.bn1"), x)
        y = run(self, (f"{b}.conv2", f"{b}.bn2"), self.act(y))
        sc = run(self, (f"{b}.short.conv", f"{b}.short.bn"), x) if short \
            else x
        return self.act(y + sc)

    def _pre(self, b, short, x):
        """bn1-act-conv1-bn2-act-conv2 (+ shortcut on x or act(bn1(x)))."""
        a = self.act(run(self, (f"{b}.bn1",), x))
        y = self.act(run(self, (f"{b}.conv1", f"{b}.bn2"), a))
        y = run(self, (f"{b}.conv2",), y)
        return y + (run(self, (f"{b}.short.conv",), a) if short else x)

    def forward(self, x):
        if self.preact:
            x = run(self, ("stem.conv",), x)
        else:
            x = self.act(run(self, ("stem.conv", "stem.bn"), x))
        for b, short in self.blocks:
            x = self._pre(b, short, x) if self.preact else \
                self._post(b, short, x)
        if self.preact:
            x = self.act(run(self, ("final.bn",), x))
        return self.fc(x.mean((2, 3)))

# ---- msdnet -----------------------------------------------------------------


class MsdNet(nn.Module):
    """msdnet[:scales=3,blocks=5,step=1,first=step,stepmode=even,base=16,
    growth=6,grfactor=1-2-4,bnfactor=1-2-4,bottleneck=1,prune=max,
    reduction=0.5,head=128]: the multi-scale dense network of
    src/models/msdnet.c, layer for layer (see its header for the
    structure).  forward() gives the last exit; forward_exits() all."""

    def __init__(self, keys, act, inp, classes):
        super().__init__()
        S = self.S = keys.int("scales", 3)
        pow2 = [1, 2, 4, 8][:S]
        step = keys.int("step", 1)
        first, mode = keys.int("first", step), keys.str("stepmode", "even")
        nblocks, base = keys.int("blocks", 5), keys.int("base", 16)
        self.growth = keys.int("growth", 6)
        self.gr = keys.list("grfactor", pow2)
        self.bnf = keys.list("bnfactor", pow2)
        self.bottleneck = keys.bool("bottleneck", True)
        prune, red = keys.str("prune", "max"), keys.float32("reduction", 0.5)
        head = keys.int("head", 128)
        self.act = make_act(act)
        steps = [first if b == 0 else (step if mode == "even" else
                                       step * b + 1) for b in range(nblocks)]
        nall = sum(steps)
        # The forward pass as data, in build order:
        #   ("first", i, convs)        x_i = convs(x_{i-1} or the input)
        #   ("scale", i, convs_list)   x_i = concat(x_i, normal, [down])
        #   ("trans", i, convs)        x_i = convs(x_i)
        #   ("exit", b, convs)         logits of exit b from x_{S-1}
        # where convs is a list of (conv, bn) path pairs, each then act.
        self.plan = []
        k, cin = base, inp[0]
        for i in range(S):
            self.plan.append(("first", i, [conv_bn(
                self, f"first.s{i}", 0, cin, base * self.gr[i], 3,
                2 if i else 1, 1)]))
            cin = base * self.gr[i]
        interval, lay = -(-nall // S), 0
        for b in range(nblocks):
            for _ in range(steps[b]):
                lay += 1
                in_s = out_s = S
                if prune == "max":
                    in_s = S - max(lay - 2, 0) // interval
                    out_s = S - (lay - 1) // interval
                elif prune == "min":
                    in_s, out_s = min(nall - lay + 2, S), min(nall - lay + 1,
                                                              S)
                off, dropped = S - out_s, in_s > out_s
                layer = [("scale", i, self._scale(lay, i, k,
                                                  i > off or dropped))
                         for i in range(off, S)]
                self.plan.append(("layer", 0, layer))
                k += self.growth
                if red > 0 and ((prune == "max" and dropped) or
                                (prune == "min" and lay in (nall // 3,
                                                            2 * nall // 3))):
                    kt = int(math.floor(red * k))
                    for i in range(off, S):
                        self.plan.append(("trans", i, [conv_bn(
                            self, f"trans{lay}.s{i}", 0, k * self.gr[i],
                            kt * self.gr[i], 1, 1, 0)]))
                    k = kt
            self.plan.append(("exit", b, [
                conv_bn(self, f"exit{b}", 1, k * self.gr[S - 1], head, 3, 2,
                        1),
                conv_bn(self, f"exit{b}", 2, head, head, 3, 2, 1)]))
            put(self, f"exit{b}.fc", nn.Linear(head, classes))

    def _path(self, base, cin, nout, bnf, stride):
        """[1x1 bottleneck to min(cin, bnf*nout) -] 3x3 conv to nout."""
        if self.bottleneck:
            inner = min(cin, bnf * nout)
            return [conv_bn(self, base, 1, cin, inner, 1, 1, 0),
                    conv_bn(self, base, 2, inner, nout, 3, stride, 1)]
        return [conv_bn(self, base, 0, cin, nout, 3, stride, 1)]

    def _scale(self, lay, i, k, down):
        """The normal and (if down) down paths of scale i of layer lay."""
        g = self.growth * self.gr[i]
        paths = [self._path(f"layer{lay}.s{i}.normal", k * self.gr[i],
                            g // 2 if down else g, self.bnf[i], 1)]
        if down:
            paths.append(self._path(f"layer{lay}.s{i}.down",
                                    k * self.gr[i - 1], g // 2,
                                    self.bnf[i - 1], 2))
        return paths

    def _convs(self, convs, x):
        for pair in convs:
            x = self.act(run(self, pair, x))
        return x

    def forward_exits(self, x):
        xs, outs = {}, []
        for kind, i, what in self.plan:
            if kind == "first":
                x = xs[i] = self._convs(what, x)
            elif kind == "trans":
                xs[i] = self._convs(what, xs[i])
            elif kind == "layer":  # every scale reads the layer's inputs
                ys = {}
                for _, j, paths in what:
                    parts = [xs[j], self._convs(paths[0], xs[j])]
                    if len(paths) > 1:
                        parts.append(self._convs(paths[1], xs[j - 1]))
                    ys[j] = torch.cat(parts, 1)
                xs.update(ys)
            else:
                y = self._convs(what, xs[self.S - 1]).mean((2, 3))
                outs.append(run(self, (f"exit{i}.fc",), y))
        return outs

    def forward(self, x):
        return self.forward_exits(x)[-1]

# ---- entry points ----------------------------------------------------------


MODELS = {
    "linear": (Linear, []),
    "mlp": (Mlp, ["hidden", "dropout"]),
    "maxout": (Maxout, ["units", "pieces", "layers", "dropout", "indrop"]),
    "cnn-small": (CnnSmall, []),
    "cnn": (Cnn, []),
    "resnet": (ResNet, ["depth", "width", "preact", "blocks"]),
    "msdnet": (MsdNet, ["scales", "blocks", "step", "first", "stepmode",
                        "base", "growth", "grfactor", "bnfactor",
                        "bottleneck", "prune", "reduction", "head"]),
}


def build(spec, act="relu", input=(1, 28, 28), classes=10):
    """A fresh model (PyTorch's default init) for an advc spec."""
    name, kv = parse_spec(spec)
    if name not in MODELS:
        raise ValueError(f"model '{spec}': unknown (models: "
                         f"{', '.join(MODELS)})")
    cls, allowed = MODELS[name]
    return cls(Keys(spec, kv, allowed), act, tuple(input), classes)


def state_dict_arrays(model):
    """The state_dict as numpy arrays, in order."""
    return {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}


def save_npz(model, path):
    """numpy.savez of the state_dict (uncompressed: advc import reads it).
    Written through a file object so numpy does not append '.npz'."""
    with open(path, "wb") as f:
        np.savez(f, **state_dict_arrays(model))


def load_npz(path, spec, act="relu", input=(1, 28, 28), classes=10):
    """build() the model and load an archive from advc export (strict:
    every key, nothing else); returned in eval mode."""
    model = build(spec, act, input, classes)
    with np.load(path) as z:
        sd = {k: torch.from_numpy(z[k]) for k in z.files}
    model.load_state_dict(sd, strict=True)
    return model.eval()
