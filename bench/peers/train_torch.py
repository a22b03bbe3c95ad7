#!/usr/bin/python3
"""Times one training step of xcept's zoo models rebuilt in PyTorch (CPU, float32).

    /usr/bin/python3 train_torch.py --model mini-xception|mini-mobilenet|xception [--batch 128]
        [--threads 2] [--layout nchw|channels_last|both] [--warmup 2] [--repeats 10]
        [--optimizer sgd] [--lr 0.01] [--momentum 0.9] [--seed 0] [--xcept PATH] [--params N]

The networks follow xcept's definitions layer for layer (src/models/mini_xception.cpp,
mobilenet.cpp, xception.cpp, blocks.cpp), reusing the Keras-layout pieces of
bench_torch.py (TensorFlow 'same' padding with the odd pixel at the end, batch norm
epsilon 1e-3, MobileNet's bottom/right padding before stride-2 convolutions):

  mini-xception   28x28x1, 10 classes: stride-1 3x3 'same' stem (32, 64), entry blocks
                  128 and 256 (separable convs, max pool 3/2 'same', 1x1/2 residual), two
                  256-channel middle blocks, a 512 separable conv + BN + ReLU, global
                  average pool, dropout 0.2, Dense.
  mini-mobilenet  28x28x1, 10 classes: stride-1 3x3 stem (32), seven depthwise separable
                  blocks (64/1, 128/2, 128/1, 256/2, 256/1, 512/2, 512/1) with ReLU6,
                  global average pool, dropout 0.2, Dense (Keras' 1x1 conv_preds).
  xception        299x299x3, 1000 classes: Keras Applications' Xception (no dropout).

Before timing, the parameter count (Keras convention: batch-norm moving mean/variance
included) is checked against `xcept summary MODEL --json` (params_total), and, from one
batch-1 forward pass, the forward MACs (convolutions and Dense) and the feature-map shape
entering the global pool against its macs and layers; a mismatch prints an error and
exits 1. --params N checks against N instead when there is no xcept binary; without
either the check is skipped with a warning.

One timed step: optimizer.zero_grad(set_to_none=True), forward in train mode (batch norm
on batch statistics, dropout active), cross-entropy on the logits, backward,
optimizer.step() (SGD with momentum by default; also rmsprop/adam/adamw with torch's
defaults beyond --lr/--momentum). Inputs are uniform in [0, 1) with random integer labels
from a fixed seed. Each step is timed with time.perf_counter after the warm-up steps.

--layout channels_last moves the model and the input to torch.channels_last. --layout
both runs each layout in a child process of its own, so peak_rss_bytes (the process's
ru_maxrss) belongs to that layout alone. Prints one JSON line per layout. Used by
bench/compare_peers.sh --train.

Debian's torch links the reference (netlib) BLAS, and torch 1.13 sends stride-1 1x1
convolutions to oneDNN only at batch >= 16 or more than one thread; otherwise they run
as im2col + that BLAS (aten::_slow_conv2d_*), which dominates a step. Small-batch
single-thread numbers therefore understate torch; the comparison's defaults (batch 64 or
128, 2 threads) are on its oneDNN path.
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_torch  # noqa: E402  (SamePad, bn, SeparableConv, EntryBlock, ...)
from bench_torch import EntryBlock, MiddleBlock, SeparableConv, bn, conv_bn_relu6  # noqa: E402

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

MODELS = {  # name: (input size, input channels, classes)
    'mini-xception': (28, 1, 10),
    'mini-mobilenet': (28, 1, 10),
    'xception': (299, 3, 1000),
}


class MiniXception(nn.Module):
    """models/mini_xception.cpp at alpha 1 with 2 middle-flow blocks."""

    def __init__(self, channels=1, classes=10, dropout=0.2):
        super().__init__()
        self.stem = nn.Sequential(  # stride 1, 3x3 'same' (pads 1/1 at stride 1)
            nn.Conv2d(channels, 32, 3, padding=1, bias=False), bn(32), nn.ReLU(),
            nn.Conv2d(32, 64, 3, padding=1, bias=False), bn(64), nn.ReLU())
        self.entry = nn.Sequential(EntryBlock(64, 128, 128, False), EntryBlock(128, 256, 256, True))
        self.middle = nn.Sequential(MiddleBlock(256), MiddleBlock(256))
        self.exit = nn.Sequential(SeparableConv(256, 512), bn(512), nn.ReLU(),
                                  nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(512, classes)

    def forward(self, x):
        return self.fc(self.dropout(self.exit(self.middle(self.entry(self.stem(x))))))


class MiniMobileNet(nn.Module):
    """build_mini_mobilenet in models/mobilenet.cpp at alpha 1."""

    STAGES = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1)]

    def __init__(self, channels=1, classes=10, dropout=0.2):
        super().__init__()
        layers = [nn.Conv2d(channels, 32, 3, padding=1, bias=False), bn(32), nn.ReLU6()]  # stride 1
        c = 32
        for cout, s in self.STAGES:
            layers += conv_bn_relu6(c, c, 3, s, groups=c)  # conv_dw_N (stride 2: pad bottom/right)
            layers += conv_bn_relu6(c, cout, 1, 1)         # conv_pw_N
            c = cout
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        self.features = nn.Sequential(*layers)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(c, classes)  # conv_preds: a Dense on the pooled vector

    def forward(self, x):
        return self.fc(self.dropout(self.features(x)))


def build(name):
    size, channels, classes = MODELS[name]
    if name == 'mini-xception':
        return MiniXception(channels, classes)
    if name == 'mini-mobilenet':
        return MiniMobileNet(channels, classes)
    return bench_torch.Xception(classes)


def forward_stats(model, size, channels):
    """(forward MACs per image of Conv2d and Linear, [H, W, C] entering the global pool)."""
    macs, pooled = [0], []

    def conv_hook(m, inp, out):
        macs[0] += out.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]

    def linear_hook(m, inp, out):
        macs[0] += out.numel() * m.in_features

    def pool_hook(m, inp):
        n, c, h, w = inp[0].shape
        pooled.append([h, w, c])

    hooks = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(linear_hook))
        elif isinstance(m, nn.AdaptiveAvgPool2d):
            hooks.append(m.register_forward_pre_hook(pool_hook))
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, channels, size, size))
    for h in hooks:
        h.remove()
    return macs[0], pooled[0] if pooled else None


def xcept_summary(xcept, model):
    """`xcept summary MODEL --json` as a dict, or None (with a warning) without a binary."""
    if not xcept or not os.access(xcept, os.X_OK):
        return None
    try:
        out = subprocess.run([xcept, 'summary', model, '--json'], check=True,
                             capture_output=True, text=True, timeout=120).stdout
        return json.loads(out)
    except (subprocess.SubprocessError, OSError, ValueError) as e:
        print(f'train_torch.py: warning: {xcept} summary {model} --json failed: {e}', file=sys.stderr)
        return None


def check(a, model, params):
    """Exits 1 unless the torch network matches xcept's (parameters, MACs, pooled shape)."""
    size, channels, _ = MODELS[a.model]
    summary = xcept_summary(a.xcept, a.model)
    expected = a.params if a.params is not None else (summary or {}).get('params_total')
    errors = []
    if expected is None:
        print(f'train_torch.py: warning: no xcept binary at {a.xcept} and no --params: '
              'parameter count not checked', file=sys.stderr)
    elif params != expected:
        source = '--params' if a.params is not None else 'xcept'
        errors.append(f'parameters: torch {params:,}, {source} {expected:,}')
    if summary is not None:
        macs, pooled = forward_stats(model, size, channels)
        if macs != summary.get('macs'):
            errors.append(f'forward MACs per image: torch {macs:,}, xcept {summary.get("macs"):,}')
        layers = summary.get('layers', [])
        pool = [i for i, l in enumerate(layers) if l.get('type') == 'GlobalAvgPool2D']
        if pool and pool[0] > 0 and layers[pool[0] - 1].get('output') != pooled:
            errors.append(f'feature map before the global pool: torch {pooled}, '
                          f'xcept {layers[pool[0] - 1].get("output")}')
    if errors:
        for e in errors:
            print(f'train_torch.py: error: {a.model} does not match xcept: {e}', file=sys.stderr)
        sys.exit(1)
    return expected


def make_optimizer(a, params):
    if a.optimizer == 'sgd':
        return torch.optim.SGD(params, lr=a.lr, momentum=a.momentum)
    if a.optimizer == 'rmsprop':
        return torch.optim.RMSprop(params, lr=a.lr, momentum=a.momentum)
    if a.optimizer == 'adam':
        return torch.optim.Adam(params, lr=a.lr)
    return torch.optim.AdamW(params, lr=a.lr)


def run(a):
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(a.seed)
    size, channels, classes = MODELS[a.model]
    model = build(a.model)
    params = bench_torch.keras_param_count(model)
    check(a, model, params)

    x = torch.rand(a.batch, channels, size, size)
    y = torch.randint(0, classes, (a.batch,))
    if a.layout == 'channels_last':
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    model.train()
    opt = make_optimizer(a, model.parameters())

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    for _ in range(a.warmup):
        step()
    ms = []
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        step()
        ms.append((time.perf_counter() - t0) * 1e3)
    median = statistics.median(ms)
    print(json.dumps({
        'peer': 'torch', 'model': a.model, 'layout': a.layout, 'batch': a.batch,
        'threads': a.threads, 'params': params, 'median_ms': median, 'min_ms': min(ms),
        'max_ms': max(ms), 'images_per_s': a.batch * 1000.0 / median,
        'peak_rss_bytes': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        'torch_version': torch.__version__, 'input': list(x.shape), 'optimizer': a.optimizer,
        'lr': a.lr, 'momentum': a.momentum, 'warmup': a.warmup, 'repeats': a.repeats}), flush=True)


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--model', required=True, choices=list(MODELS))
    ap.add_argument('--batch', type=int, default=128)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--layout', default='both', choices=['nchw', 'channels_last', 'both'])
    ap.add_argument('--warmup', type=int, default=2)
    ap.add_argument('--repeats', type=int, default=10)
    ap.add_argument('--optimizer', default='sgd', choices=['sgd', 'rmsprop', 'adam', 'adamw'])
    ap.add_argument('--lr', type=float, default=0.01)
    ap.add_argument('--momentum', type=float, default=0.9)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--xcept', default=os.environ.get('XCEPT', os.path.join(root, 'build', 'xcept')),
                    help='xcept binary for the parameter check (default build/xcept)')
    ap.add_argument('--params', type=int, default=None,
                    help='expected parameter count, instead of asking xcept summary')
    a = ap.parse_args()
    if a.batch < 1 or a.threads < 1 or a.repeats < 1 or a.warmup < 0:
        ap.error('--batch, --threads and --repeats must be >= 1, --warmup >= 0')

    if a.layout != 'both':
        run(a)
        return
    # One child per layout: ru_maxrss is a high-water mark, so a shared process would
    # report the larger layout's peak for both.
    argv, args = [], iter(sys.argv[1:])
    for v in args:
        if v == '--layout':
            next(args, None)
        elif not v.startswith('--layout='):
            argv.append(v)
    for layout in ('nchw', 'channels_last'):
        rc = subprocess.run([sys.executable, os.path.abspath(__file__), *argv, '--layout', layout]).returncode
        if rc != 0:
            sys.exit(rc)


if __name__ == '__main__':
    main()
