#!/usr/bin/env node
// Times an ONNX model in ONNX Runtime (CPU, onnxruntime-node) on random NCHW input.
//
//   node bench_ort.js MODEL.onnx [--batch 1] [--threads 1] [--input-size 224]
//                     [--channels 3] [--warmup 3] [--repeats 20]
//
// Prints one JSON line: median/min/max/mean milliseconds per run over the repeats, after
// the warm-up runs (the first run includes ORT's lazy initialization). intraOpNumThreads
// is --threads, interOpNumThreads 1, all graph optimizations on. Used by
// bench/compare_peers.sh.
'use strict';

const ort = require('onnxruntime-node');

function parseArgs(argv) {
  const o = { batch: 1, threads: 1, inputSize: 224, channels: 3, warmup: 3, repeats: 20 };
  const keys = {
    '--batch': 'batch', '--threads': 'threads', '--input-size': 'inputSize',
    '--channels': 'channels', '--warmup': 'warmup', '--repeats': 'repeats',
  };
  const pos = [];
  for (let i = 0; i < argv.length; i++) {
    if (keys[argv[i]]) {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 0) throw new Error(`${argv[i - 1]} needs a non-negative integer`);
      o[keys[argv[i - 1]]] = v;
    } else {
      pos.push(argv[i]);
    }
  }
  if (pos.length !== 1) throw new Error('usage: bench_ort.js MODEL.onnx [--batch N] [--threads T] [--input-size S] [--channels C] [--warmup W] [--repeats R]');
  if (o.repeats < 1 || o.batch < 1 || o.threads < 1) throw new Error('--batch, --threads and --repeats must be >= 1');
  o.model = pos[0];
  return o;
}

function median(sorted) {
  const n = sorted.length;
  return n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const session = await ort.InferenceSession.create(a.model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: a.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const dims = [a.batch, a.channels, a.inputSize, a.inputSize];
  const data = new Float32Array(dims.reduce((x, y) => x * y, 1));
  let s = 12345;  // a fixed LCG: the same input every run, no Math.random
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    data[i] = (s >>> 8) / (1 << 24) * 2 - 1;
  }
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, dims) };
  for (let i = 0; i < a.warmup; i++) await session.run(feeds);
  const ms = [];
  for (let i = 0; i < a.repeats; i++) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const sorted = [...ms].sort((x, y) => x - y);
  const out = {
    runtime: 'onnxruntime-node',
    version: ort.env.versions.node || ort.env.versions.common,
    model: a.model,
    batch: a.batch,
    threads: a.threads,
    input: dims,
    warmup: a.warmup,
    repeats: a.repeats,
    median_ms: median(sorted),
    min_ms: sorted[0],
    max_ms: sorted[sorted.length - 1],
    mean_ms: ms.reduce((x, y) => x + y, 0) / ms.length,
    peak_rss_mb: process.resourceUsage().maxRSS / 1024,
  };
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => {
  process.stderr.write(`bench_ort.js: ${e.message || e}\n`);
  process.exit(1);
});
