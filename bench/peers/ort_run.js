#!/usr/bin/env node
// Runs an ONNX model once in ONNX Runtime (CPU) and writes its first output.
//
//   node ort_run.js MODEL.onnx INPUT OUTPUT [--shape 1,3,32,32] [--threads N]
//
// INPUT is a .npy (float32) or raw little-endian float32 with --shape; OUTPUT is written
// as .npy when it ends in .npy, raw float32 otherwise. Prints the output's dims as JSON.
// Used by xcept's ONNX export tests (tests/test_onnx_export.cpp).
'use strict';

const path = require('path');
const ort = require('onnxruntime-node');
const { readTensor, writeTensor } = require(path.join(__dirname, 'npy.js'));

function parseArgs(argv) {
  const pos = [];
  const opt = { threads: 1, shape: null };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--shape') opt.shape = argv[++i].split(',').map(Number);
    else if (argv[i] === '--threads') opt.threads = Number(argv[++i]);
    else pos.push(argv[i]);
  }
  if (pos.length !== 3) {
    throw new Error('usage: ort_run.js MODEL.onnx INPUT OUTPUT [--shape d0,d1,..] [--threads N]');
  }
  return { model: pos[0], input: pos[1], output: pos[2], ...opt };
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const x = readTensor(a.input, a.shape);
  const session = await ort.InferenceSession.create(a.model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: a.threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', x.data, x.dims) };
  const results = await session.run(feeds);
  const y = results[session.outputNames[0]];
  writeTensor(a.output, y.dims.map(Number), y.data);
  process.stdout.write(JSON.stringify({ output: session.outputNames[0], dims: y.dims.map(Number) }) + '\n');
}

main().catch((e) => {
  process.stderr.write(`ort_run.js: ${e.message || e}\n`);
  process.exit(1);
});
