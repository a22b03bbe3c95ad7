#!/usr/bin/python3
"""Reference data from torchvision 0.14 for xcept's zoo tests (tests/models/test_models_torchvision.cpp).

For each model: builds it with seed 0, gives batch norm random statistics, scales and
shifts (eval mode), runs one random NCHW input, and writes to OUT/<model>/
    <state_dict name>.npy   every float tensor of the state_dict, in PyTorch's layout
    input.npy, output.npy   the input (1x3xSxS) and torchvision's output
plus OUT/counts.json: {model: {"params": trainable parameters, "macs": MACs at 224x224}}
with MACs in xcept's convention (every tap of every convolution, plus dense), counted
by forward hooks.

Run with Debian's python (it has python3-torch and python3-torchvision):
    /usr/bin/python3 tools/torchvision_reference.py OUT SIZE MODEL...
"""
import json
import os
import sys

import numpy as np
import torch
import torchvision.models as tvm


def macs(model, size):
    total = [0]

    def hook(mod, inp, out):
        if isinstance(mod, torch.nn.Conv2d):
            per_out = (mod.in_channels // mod.groups) * mod.kernel_size[0] * mod.kernel_size[1]
            total[0] += out[0].numel() * per_out
        elif isinstance(mod, torch.nn.Linear):
            total[0] += mod.in_features * mod.out_features

    handles = [m.register_forward_hook(hook) for m in model.modules()]
    with torch.no_grad():
        model(torch.zeros(1, 3, size, size))
    for h in handles:
        h.remove()
    return total[0]


def main():
    out, size, names = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    torch.manual_seed(0)
    counts = {}
    for name in names:
        model = getattr(tvm, name)().eval()
        with torch.no_grad():
            for m in model.modules():
                if isinstance(m, torch.nn.BatchNorm2d):
                    m.running_mean.uniform_(-0.5, 0.5)
                    m.running_var.uniform_(0.5, 1.5)
                    m.weight.uniform_(0.5, 1.5)
                    m.bias.uniform_(-0.5, 0.5)
        counts[name] = {"params": sum(p.numel() for p in model.parameters()),
                        "macs": macs(model, 224)}
        folder = os.path.join(out, name)
        os.makedirs(folder, exist_ok=True)
        for key, t in model.state_dict().items():
            if t.dtype == torch.float32:
                np.save(os.path.join(folder, key + ".npy"), t.numpy())
        x = torch.rand(1, 3, size, size)
        with torch.no_grad():
            y = model(x)
        np.save(os.path.join(folder, "input.npy"), x.numpy())
        np.save(os.path.join(folder, "output.npy"), y.numpy())
    with open(os.path.join(out, "counts.json"), "w") as f:
        json.dump(counts, f)


if __name__ == "__main__":
    main()
