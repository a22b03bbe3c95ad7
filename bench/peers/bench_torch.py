#!/usr/bin/python3
"""Times Xception and MobileNet v1 in PyTorch (CPU, random weights, eval mode).

    /usr/bin/python3 bench_torch.py --model xception|mobilenet|conv-mobilenet [--batch 1] [--threads 1]
        [--input-size 299] [--modes eager,frozen,optimized] [--warmup 3] [--repeats 20]

The networks are built here in the Keras layout xcept builds (models/xception.cpp,
models/mobilenet.cpp): Xception's entry/middle/exit flows with separable convolutions as
depthwise + pointwise, batch norm epsilon 1e-3, 22,910,480 parameters counting the
moving statistics as Keras does; MobileNet v1 with width 1 and its asymmetric
ZeroPadding before stride-2 convolutions. TensorFlow's 'same' padding (odd pixel at the
end) is reproduced with explicit pads, so output shapes match xcept's at any size.

Modes: eager (torch.no_grad), frozen (torch.jit.freeze of torch.jit.trace, which folds
batch norm into the convolutions) and optimized (torch.jit.optimize_for_inference of the
frozen module, which also moves convolutions to oneDNN). Debian's torch links the
reference (netlib) BLAS, and at one thread and batch < 16 torch runs stride-1 1x1
convolutions through BLAS rather than oneDNN, so eager and frozen are slow there; the
optimized mode is torch's best CPU path on this build. Prints one JSON line per mode with
median, min, max and mean milliseconds per batch after the warm-up runs. Used by
bench/compare_peers.sh.
"""
import argparse
import json
import math
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def same_pads(size, k, s, d=1):
    """TensorFlow 'same': (before, after) with the odd pixel after."""
    out = math.ceil(size / s)
    total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
    return total // 2, total - total // 2


class SamePad(nn.Module):
    """Pads an NCHW map as TensorFlow's 'same' would for a k x k window at stride s."""

    def __init__(self, k, s, value=0.0):
        super().__init__()
        self.k, self.s, self.value = k, s, value

    def forward(self, x):
        t, b = same_pads(x.shape[2], self.k, self.s)
        l, r = same_pads(x.shape[3], self.k, self.s)
        if t == b == l == r == 0:
            return x
        return F.pad(x, (l, r, t, b), value=self.value)


def bn(c):
    return nn.BatchNorm2d(c, eps=1e-3, momentum=0.01)


class SeparableConv(nn.Sequential):
    """Keras SeparableConv2D without bias: 3x3 depthwise ('same') then 1x1 pointwise."""

    def __init__(self, cin, cout):
        super().__init__(
            nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False),
            nn.Conv2d(cin, cout, 1, bias=False))


class EntryBlock(nn.Module):
    """block2..4 and block13: two separable convs, max pool 3/2 'same', 1x1/2 residual."""

    def __init__(self, cin, cmid, cout, first_relu):
        super().__init__()
        self.residual = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=2, bias=False), bn(cout))
        layers = [nn.ReLU()] if first_relu else []
        layers += [SeparableConv(cin, cmid), bn(cmid), nn.ReLU(), SeparableConv(cmid, cout),
                   bn(cout), SamePad(3, 2, float('-inf')), nn.MaxPool2d(3, 2)]
        self.body = nn.Sequential(*layers)

    def forward(self, x):
        return self.body(x) + self.residual(x)


class MiddleBlock(nn.Module):
    def __init__(self, c=728):
        super().__init__()
        layers = []
        for _ in range(3):
            layers += [nn.ReLU(), SeparableConv(c, c), bn(c)]
        self.body = nn.Sequential(*layers)

    def forward(self, x):
        return self.body(x) + x


class Xception(nn.Module):
    def __init__(self, classes=1000):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 32, 3, stride=2, bias=False), bn(32), nn.ReLU(),
            nn.Conv2d(32, 64, 3, bias=False), bn(64), nn.ReLU())
        self.entry = nn.Sequential(EntryBlock(64, 128, 128, False), EntryBlock(128, 256, 256, True),
                                   EntryBlock(256, 728, 728, True))
        self.middle = nn.Sequential(*[MiddleBlock() for _ in range(8)])
        self.exit = nn.Sequential(
            EntryBlock(728, 728, 1024, True),
            SeparableConv(1024, 1536), bn(1536), nn.ReLU(),
            SeparableConv(1536, 2048), bn(2048), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.fc = nn.Linear(2048, classes)

    def forward(self, x):
        return self.fc(self.exit(self.middle(self.entry(self.stem(x)))))


def conv_bn_relu6(cin, cout, k, s, groups=1):
    """Keras MobileNet: stride-2 convs get ZeroPadding ((0,1),(0,1)) then 'valid'."""
    layers = [nn.ZeroPad2d((0, 1, 0, 1)), nn.Conv2d(cin, cout, k, stride=2, groups=groups, bias=False)] \
        if s == 2 else [nn.Conv2d(cin, cout, k, padding=k // 2, groups=groups, bias=False)]
    return layers + [bn(cout), nn.ReLU6()]


class MobileNetV1(nn.Module):
    """full=True: the paper's full-convolution twin (each separable pair one 3x3 conv)."""
    def __init__(self, classes=1000, full=False):
        super().__init__()
        cfg = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + \
              [(1024, 2), (1024, 1)]
        layers = conv_bn_relu6(3, 32, 3, 2)
        c = 32
        for cout, s in cfg:
            if full:
                layers += conv_bn_relu6(c, cout, 3, s)
            else:
                layers += conv_bn_relu6(c, c, 3, s, groups=c)   # depthwise
                layers += conv_bn_relu6(c, cout, 1, 1)          # pointwise
            c = cout
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(1024, classes)  # Keras's 1x1 conv_preds on the pooled map

    def forward(self, x):
        return self.fc(self.features(x))


def keras_param_count(model):
    """Parameters plus batch-norm moving mean/variance, as Keras counts them."""
    n = sum(p.numel() for p in model.parameters())
    n += sum(b.numel() for name, b in model.named_buffers() if name.endswith(('running_mean', 'running_var')))
    return n


def randomize(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5, generator=g)
                m.bias.uniform_(-0.5, 0.5, generator=g)
                m.running_mean.uniform_(-0.5, 0.5, generator=g)
                m.running_var.uniform_(0.5, 1.5, generator=g)


def time_runs(fn, x, warmup, repeats):
    with torch.no_grad():
        for _ in range(warmup):
            fn(x)
        ms = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn(x)
            ms.append((time.perf_counter() - t0) * 1e3)
    return ms


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--model', required=True, choices=['xception', 'mobilenet', 'conv-mobilenet'])
    ap.add_argument('--batch', type=int, default=1)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--input-size', type=int, default=0, help='default 299 / 224')
    ap.add_argument('--modes', default='eager,frozen,optimized')
    ap.add_argument('--warmup', type=int, default=3)
    ap.add_argument('--repeats', type=int, default=20)
    ap.add_argument('--seed', type=int, default=0)
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(a.seed)
    model = Xception() if a.model == 'xception' else MobileNetV1(full=a.model == 'conv-mobilenet')
    randomize(model, a.seed)
    model.eval()
    size = a.input_size or (299 if a.model == 'xception' else 224)
    x = torch.randn(a.batch, 3, size, size)

    for mode in a.modes.split(','):
        if mode == 'eager':
            fn = model
        elif mode in ('frozen', 'optimized'):
            with torch.no_grad():
                fn = torch.jit.freeze(torch.jit.trace(model, x).eval())
                if mode == 'optimized':
                    fn = torch.jit.optimize_for_inference(fn)
        else:
            sys.exit(f'bench_torch.py: unknown mode {mode} (eager, frozen, optimized)')
        ms = time_runs(fn, x, a.warmup, a.repeats)
        print(json.dumps({
            'runtime': f'torch-{mode}', 'version': torch.__version__, 'model': a.model,
            'batch': a.batch, 'threads': a.threads, 'input': list(x.shape),
            'params': keras_param_count(model), 'warmup': a.warmup, 'repeats': a.repeats,
            'median_ms': statistics.median(ms), 'min_ms': min(ms), 'max_ms': max(ms),
            'mean_ms': statistics.fmean(ms)}), flush=True)


if __name__ == '__main__':
    main()
