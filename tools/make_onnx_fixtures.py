#!/usr/bin/python3
"""ONNX fixtures for xcept's importer tests, exported from PyTorch (Debian's python3-torch).

Default: writes small models with random weights (eval mode, randomized batch-norm
statistics) to tests/data/onnx/<name>/ in ONNX's backend-test layout:
    model.onnx, test_data_set_0/input_0.pb, test_data_set_0/output_0.pb
(plus input_0.npy / output_0.npy for the `xcept run` tests).

--big DIR: exports full Xception (299x299, Keras/paper layout: entry, middle and exit
flows, separable convolutions as depthwise + pointwise) and MobileNet v1 (224x224) with
random weights to DIR (not committed), each with input.npy and torch's output.npy; with
--xcept PATH it also runs `xcept run` on them and prints the max relative error.

Run with /usr/bin/python3 (needs torch, onnx, numpy):
    /usr/bin/python3 tools/make_onnx_fixtures.py
    /usr/bin/python3 tools/make_onnx_fixtures.py --big /tmp/xcept_onnx_big --xcept build/xcept
"""
import argparse
import os
import subprocess
import sys
import time

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.nn as nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def randomize_bn(model, gen):
    # Fresh batch norms are the identity; random statistics make folding bugs visible.
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            m.running_mean.copy_(torch.randn(c, generator=gen) * 0.1)
            m.running_var.copy_(torch.rand(c, generator=gen) * 0.5 + 0.75)
            m.weight.data.copy_(torch.rand(c, generator=gen) * 0.5 + 0.75)
            m.bias.data.copy_(torch.randn(c, generator=gen) * 0.1)


def sep(cin, cout):
    """Separable convolution: depthwise 3x3 then pointwise 1x1, no biases (Keras)."""
    return nn.Sequential(nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False),
                         nn.Conv2d(cin, cout, 1, bias=False))


class GroupedConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 3, stride=2, padding=1, groups=4)
        self.bn2 = nn.BatchNorm2d(16)
        self.conv3 = nn.Conv2d(16, 16, 3, padding=2, dilation=2, groups=2)
        self.pool = nn.AvgPool2d(2)
        self.fc = nn.Linear(16 * 4 * 4, 10)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        x = torch.relu(self.bn2(self.conv2(x)))
        x = nn.functional.leaky_relu(self.conv3(x), 0.1)
        x = self.pool(x)
        return self.fc(torch.flatten(x, 1))  # flatten with H, W > 1: needs NCHW order


class MobileNetBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, stride=2, padding=1, bias=False)
        self.bn0 = nn.BatchNorm2d(16)
        self.dw = nn.Conv2d(16, 16, 3, padding=1, groups=16, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.pw = nn.Conv2d(16, 32, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(32)

    def forward(self, x):
        x = nn.functional.relu6(self.bn0(self.conv(x)))
        x = nn.functional.relu6(self.bn1(self.dw(x)))
        return nn.functional.relu6(self.bn2(self.pw(x)))


class XceptionBlock(nn.Module):
    """Keras's Xception block: [ReLU] sep BN ReLU sep BN maxpool + 1x1 s2 residual."""

    def __init__(self, cin, cout, relu_first=True):
        super().__init__()
        self.relu_first = relu_first
        self.skip = nn.Conv2d(cin, cout, 1, stride=2, bias=False)
        self.skip_bn = nn.BatchNorm2d(cout)
        self.sep1, self.bn1 = sep(cin, cout), nn.BatchNorm2d(cout)
        self.sep2, self.bn2 = sep(cout, cout), nn.BatchNorm2d(cout)
        self.pool = nn.MaxPool2d(3, stride=2, padding=1)

    def forward(self, x):
        r = self.skip_bn(self.skip(x))
        if self.relu_first:
            x = torch.relu(x)
        x = self.bn1(self.sep1(x))
        x = self.bn2(self.sep2(torch.relu(x)))
        return self.pool(x) + r


class MiddleBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.seps = nn.ModuleList([sep(c, c) for _ in range(3)])
        self.bns = nn.ModuleList([nn.BatchNorm2d(c) for _ in range(3)])

    def forward(self, x):
        r = x
        for s, b in zip(self.seps, self.bns):
            x = b(s(torch.relu(x)))
        return x + r


class Xception(nn.Module):
    """Xception (Chollet 2017) as Keras builds it; widths scaled by `w` for the mini one."""

    def __init__(self, classes=1000, w=1.0, middle=8, softmax=False):
        super().__init__()
        c = lambda n: max(4, int(n * w))
        self.softmax = softmax
        self.conv1, self.bn1 = nn.Conv2d(3, c(32), 3, stride=2, bias=False), nn.BatchNorm2d(c(32))
        self.conv2, self.bn2 = nn.Conv2d(c(32), c(64), 3, bias=False), nn.BatchNorm2d(c(64))
        self.block2 = XceptionBlock(c(64), c(128), relu_first=False)
        self.block3 = XceptionBlock(c(128), c(256))
        self.block4 = XceptionBlock(c(256), c(728))
        self.middle = nn.Sequential(*[MiddleBlock(c(728)) for _ in range(middle)])
        self.exit_skip, self.exit_skip_bn = nn.Conv2d(c(728), c(1024), 1, stride=2, bias=False), nn.BatchNorm2d(c(1024))
        self.exit_sep1, self.exit_bn1 = sep(c(728), c(728)), nn.BatchNorm2d(c(728))
        self.exit_sep2, self.exit_bn2 = sep(c(728), c(1024)), nn.BatchNorm2d(c(1024))
        self.exit_pool = nn.MaxPool2d(3, stride=2, padding=1)
        self.sep3, self.bn3 = sep(c(1024), c(1536)), nn.BatchNorm2d(c(1536))
        self.sep4, self.bn4 = sep(c(1536), c(2048)), nn.BatchNorm2d(c(2048))
        self.fc = nn.Linear(c(2048), classes)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        x = torch.relu(self.bn2(self.conv2(x)))
        x = self.block4(self.block3(self.block2(x)))
        x = self.middle(x)
        r = self.exit_skip_bn(self.exit_skip(x))
        x = self.exit_bn1(self.exit_sep1(torch.relu(x)))
        x = self.exit_bn2(self.exit_sep2(torch.relu(x)))
        x = self.exit_pool(x) + r
        x = torch.relu(self.bn3(self.sep3(x)))
        x = torch.relu(self.bn4(self.sep4(x)))
        x = nn.functional.adaptive_avg_pool2d(x, 1).flatten(1)
        x = self.fc(x)
        return torch.softmax(x, dim=1) if self.softmax else x


class MobileNetV1(nn.Module):
    def __init__(self, classes=1000):
        super().__init__()
        cfg = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + \
              [(1024, 2), (1024, 1)]
        layers = [nn.Conv2d(3, 32, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU6()]
        cin = 32
        for cout, s in cfg:
            layers += [nn.Conv2d(cin, cin, 3, stride=s, padding=1, groups=cin, bias=False),
                       nn.BatchNorm2d(cin), nn.ReLU6(),
                       nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU6()]
            cin = cout
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(1024, classes)

    def forward(self, x):
        x = self.features(x)
        return self.fc(x.mean((2, 3)))


def export(model, x, path, preserve_bn=False):
    # TrainingMode.PRESERVE keeps BatchNormalization nodes (inference mode, since the model
    # is in eval mode) instead of folding them into the convolutions, to test their import.
    mode = torch.onnx.TrainingMode.PRESERVE if preserve_bn else torch.onnx.TrainingMode.EVAL
    torch.onnx.export(model, x, path, opset_version=13, input_names=["input"],
                      output_names=["output"], training=mode, do_constant_folding=not preserve_bn)


def make(name, model, shape, seed, preserve_bn=False):
    gen = torch.Generator().manual_seed(seed)
    for p in model.parameters():
        p.data.copy_(torch.randn(p.shape, generator=gen) * (1.0 / max(1, p[0].numel()) ** 0.5))
    randomize_bn(model, gen)
    model.eval()
    x = torch.randn(shape, generator=gen)
    with torch.no_grad():
        y = model(x)
    d = os.path.join(ROOT, "tests", "data", "onnx", name)
    os.makedirs(os.path.join(d, "test_data_set_0"), exist_ok=True)
    export(model, x, os.path.join(d, "model.onnx"), preserve_bn)
    for stem, t in (("input_0", x), ("output_0", y)):
        a = t.numpy().astype(np.float32)
        with open(os.path.join(d, "test_data_set_0", stem + ".pb"), "wb") as f:
            f.write(onnx.numpy_helper.from_array(a, stem).SerializeToString())
        np.save(os.path.join(d, "test_data_set_0", stem + ".npy"), a)
    m = onnx.load(os.path.join(d, "model.onnx"))
    ops = sorted({n.op_type for n in m.graph.node})
    print(f"{name}: input {tuple(shape)} output {tuple(y.shape)} ops {ops}")


def big(outdir, xcept):
    os.makedirs(outdir, exist_ok=True)
    for name, model, shape in (("xception", Xception(), (1, 3, 299, 299)),
                               ("mobilenet_v1", MobileNetV1(), (1, 3, 224, 224))):
        gen = torch.Generator().manual_seed(7)
        for p in model.parameters():
            p.data.copy_(torch.randn(p.shape, generator=gen) * (1.0 / max(1, p[0].numel()) ** 0.5))
        randomize_bn(model, gen)
        model.eval()
        x = torch.rand(shape, generator=gen)
        with torch.no_grad():
            t0 = time.time()
            y = model(x)
            torch_ms = (time.time() - t0) * 1000
        d = os.path.join(outdir, name)
        os.makedirs(d, exist_ok=True)
        export(model, x, os.path.join(d, "model.onnx"))
        np.save(os.path.join(d, "input.npy"), x.numpy())
        np.save(os.path.join(d, "torch_output.npy"), y.numpy())
        print(f"{name}: {os.path.join(d, 'model.onnx')} ({os.path.getsize(os.path.join(d, 'model.onnx')) / 1e6:.1f} MB), "
              f"torch forward {torch_ms:.0f} ms")
        if xcept:
            cmd = [xcept, "run", os.path.join(d, "model.onnx"), "--input", os.path.join(d, "input.npy"),
                   "--output", os.path.join(d, "xcept_output.npy")]
            print("  $ " + " ".join(cmd))
            t0 = time.time()
            subprocess.run(cmd, check=True)
            wall = time.time() - t0
            a = np.load(os.path.join(d, "xcept_output.npy"))
            b = y.numpy()
            err = np.abs(a - b).max() / np.abs(b).max()
            print(f"  max |xcept - torch| / max |torch| = {err:.3g}, elementwise max rel "
                  f"{(np.abs(a - b) / (np.abs(b) + 1e-6)).max():.3g}, xcept run wall {wall:.2f} s")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--big", help="folder for full Xception and MobileNet v1 (not committed)")
    ap.add_argument("--xcept", help="xcept binary to run on the --big models")
    a = ap.parse_args()
    torch.manual_seed(0)
    if a.big:
        big(a.big, a.xcept)
        return
    make("grouped_conv", GroupedConvNet(), (2, 3, 16, 16), 1)
    make("mobilenet_block", MobileNetBlock(), (1, 3, 32, 32), 2, preserve_bn=True)
    make("mini_xception", Xception(classes=10, w=1 / 16, middle=1, softmax=True), (1, 3, 71, 71), 3)


if __name__ == "__main__":
    sys.exit(main())
