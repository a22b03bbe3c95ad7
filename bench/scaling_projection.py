#!/usr/bin/env python3
"""Projected data-parallel efficiency from measured inputs (docs/distributed.md).

Ring all-reduce of G gradient bytes over N ranks moves 2(N-1)/N * G bytes through each
rank's link and takes 2(N-1) message steps per bucket; with k = ceil(G / bucket) buckets:

    t_comm = k * 2(N-1) * alpha + 2(N-1)/N * G / bandwidth

Efficiency without overlap is t_compute / (t_compute + t_comm), a lower bound. Buckets
start during backward, about 2/3 of a step's compute, so at best only the part of
t_comm beyond it shows: t_compute / (t_compute + max(0, t_comm - 2/3 t_compute)).
Usage: bench/scaling_projection.py --model NAME --params P --compute-ms T [--alpha-us A]
       [--bucket-mb 4] (repeatable: one --model ... group per model).
"""
import argparse
import math

def project(name, params, compute_ms, alpha_us, bucket_mb):
    grad_bytes = 4 * params
    buckets = math.ceil(grad_bytes / (bucket_mb * 2**20))
    print(f"{name}: {params} trainable parameters = {grad_bytes / 1e6:.1f} MB of gradients "
          f"in {buckets} buckets of {bucket_mb} MB; compute {compute_ms:.0f} ms/step; "
          f"alpha {alpha_us} us per message step")
    print(f"{'Gbit/s':>7} {'ranks':>6} {'comm ms':>9} {'eff. no overlap':>16} {'eff. overlapped':>16}")
    for gbit in (10, 100):
        bw = gbit * 1e9 / 8
        for n in (8, 64, 512):
            t = buckets * 2 * (n - 1) * alpha_us * 1e-6 + 2 * (n - 1) / n * grad_bytes / bw
            t_ms = 1e3 * t
            print(f"{gbit:>7} {n:>6} {t_ms:>9.1f} {compute_ms / (compute_ms + t_ms):>15.1%} "
                  f"{compute_ms / (compute_ms + max(0.0, t_ms - 2 / 3 * compute_ms)):>15.1%}")

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", action="append", required=True)
    ap.add_argument("--params", action="append", type=int, required=True)
    ap.add_argument("--compute-ms", action="append", type=float, required=True)
    ap.add_argument("--alpha-us", type=float, default=7.0)
    ap.add_argument("--bucket-mb", type=float, default=4.0)
    a = ap.parse_args()
    for name, p, c in zip(a.model, a.params, a.compute_ms):
        project(name, p, c, a.alpha_us, a.bucket_mb)

if __name__ == "__main__":
    main()
