#!/usr/bin/env bash
# Checks the XNNPACK peer against ONNX Runtime: runs MODEL.onnx once in bench_xnnpack and
# once in ORT (ort_run.js) on the same input and compares the outputs.
#
#   bench/peers/check_xnnpack.sh BENCH_XNNPACK MODEL.onnx [--input-size 224] [--batch 1]
#                                [--tol 1e-3] [--dir DIR]
#
# Prints one JSON line: max_abs_diff, max_abs_ref (largest |ORT output|), rel (their ratio)
# and whether the top-1 class of every batch row agrees. Exits 1 when rel exceeds --tol or
# a top-1 differs. Needs node and `npm ci` in bench/peers. Used by bench/compare_peers.sh.
set -euo pipefail
peers="$(cd "$(dirname "$0")" && pwd)"
[ $# -ge 2 ] || { sed -n '5,6p' "$0" >&2; exit 2; }
bin="$1" model="$2"; shift 2
size=224 batch=1 tol=1e-3 dir=""
while [ $# -gt 0 ]; do
  case "$1" in
    --input-size) size="$2"; shift 2 ;;
    --batch) batch="$2"; shift 2 ;;
    --tol) tol="$2"; shift 2 ;;
    --dir) dir="$2"; shift 2 ;;
    *) echo "check_xnnpack.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ -z "$dir" ]; then
  dir="$(mktemp -d /tmp/xnnpack_check.XXXXXX)"
  trap 'rm -rf "$dir"' EXIT
fi

"$bin" "$model" --batch "$batch" --input-size "$size" --warmup 0 --repeats 1 \
  --dump-input "$dir/input.npy" --dump "$dir/xnnpack.npy" > /dev/null
node "$peers/ort_run.js" "$model" "$dir/input.npy" "$dir/ort.npy" > /dev/null
node - "$peers/npy.js" "$dir/xnnpack.npy" "$dir/ort.npy" "$tol" << 'EOF'
const [npy, got, want, tol] = process.argv.slice(2);
const { readNpy } = require(npy);
const a = readNpy(got), b = readNpy(want);
if (a.dims.join() !== b.dims.join()) {
  console.error(`check_xnnpack.sh: output dims [${a.dims}] differ from ORT's [${b.dims}]`);
  process.exit(1);
}
let diff = 0, ref = 0;
for (let i = 0; i < a.data.length; i++) {
  diff = Math.max(diff, Math.abs(a.data[i] - b.data[i]));
  ref = Math.max(ref, Math.abs(b.data[i]));
}
const rows = a.dims[0], cols = a.data.length / rows;
const argmax = (d, r) => { let k = 0; for (let j = 1; j < cols; j++) if (d[r * cols + j] > d[r * cols + k]) k = j; return k; };
let top1 = true;
for (let r = 0; r < rows; r++) top1 = top1 && argmax(a.data, r) === argmax(b.data, r);
const rel = ref > 0 ? diff / ref : diff;
console.log(JSON.stringify({ dims: a.dims, max_abs_diff: diff, max_abs_ref: ref, rel, tol: Number(tol), top1_agree: top1 }));
if (!(rel <= Number(tol)) || !top1) {
  console.error(`check_xnnpack.sh: XNNPACK differs from ORT (relative ${rel}, top-1 ${top1 ? 'agrees' : 'differs'})`);
  process.exit(1);
}
EOF
