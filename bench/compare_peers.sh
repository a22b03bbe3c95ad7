#!/usr/bin/env bash
# xcept against peer runtimes on identical models: ONNX Runtime (node, on the model xcept
# exports), XNNPACK (bench/peers/bench_xnnpack.cpp on the same ONNX file) and PyTorch (eager,
# TorchScript-frozen, optimize_for_inference; the same architectures rebuilt in torch,
# random weights). Run by hand, not in CI.
#
#   bench/compare_peers.sh [--models "xception mobilenet conv-mobilenet"] [--batches "1 8"]
#                          [--threads "1 2"] [--repeats 10] [--warmup 2] [--out DIR]
#                          [--xcept PATH] [--xcept-precision f32|bf16|int8] [--no-torch] [--no-ort]
#                          [--no-xnnpack]
#
# --xcept-precision bf16 times xcept's opt-in bfloat16 path (`xcept bench --precision
# bf16`); the peers run float32. --xcept-precision int8 exports each model also as QDQ
# ONNX (`xcept export --precision int8`: min-max ranges of a random input) and times that
# one file in xcept (`xcept bench M_int8.onnx --precision int8`) and in ONNX Runtime
# (column ort-int8, its own int8 kernels); the other peers run float32.
# Prints a table of median milliseconds per batch and each peer's ratio to xcept
# (peer / xcept: above 1 means xcept is faster). A missing peer (node, onnxruntime-node
# in bench/peers, /usr/bin/python3 with torch, /usr/include/xnnpack.h) is skipped with a
# message. Raw JSON lines go to DIR/results.jsonl. The machine's load (uptime) is printed
# before and after: timings on a shared machine are only as good as its quiet.
# XNNPACK: the peer is compiled once per run into DIR (g++ -O2, Debian's libxnnpack-dev,
# libpthreadpool-dev, libonnx-dev) and translates the exported ONNX into an XNNPACK subgraph
# (NHWC). Before timing a model it is checked against ONNX Runtime at batch 1
# (bench/peers/check_xnnpack.sh, when ORT is installed); a model it cannot translate or gets
# wrong prints "XNNPACK failed: ..." and the run goes on without it.
#
#   bench/compare_peers.sh --train [--models "mini-xception mini-mobilenet"] [--batches "B ..."]
#                          [--threads "2"] [--repeats 10] [--warmup 2] [--out DIR] [--xcept PATH]
#
# --train compares training speed instead: per model, batch and thread count it times one
# step (forward, cross-entropy, backward, SGD momentum 0.9, lr 0.01) with `xcept bench
# MODEL --train --json` and with PyTorch via bench/peers/train_torch.py (the same network,
# parameter count checked against `xcept summary`) in both NCHW and channels_last layouts.
# Models: mini-xception, mini-mobilenet, xception. Without --batches each model runs at its
# own batch (mini-xception 128, mini-mobilenet 64, xception 8); threads default to 2. The
# CPU model is printed first; the table gives images/s for xcept and each torch layout, the
# ratio xcept / best torch (above 1: xcept faster) and each run's peak RSS. ONNX Runtime
# takes no part; --no-torch leaves out PyTorch. Raw JSON lines go to DIR/results.jsonl.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
peers="$root/bench/peers"

models="" batches="" threads_list="" repeats=10 warmup=2
out="" xcept="${XCEPT:-}" xcept_precision=f32 use_torch=1 use_ort=1 use_xnnpack=1 train=0
while [ $# -gt 0 ]; do
  case "$1" in
    --models) models="$2"; shift 2 ;;
    --batches) batches="$2"; shift 2 ;;
    --threads) threads_list="$2"; shift 2 ;;
    --repeats) repeats="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --xcept) xcept="$2"; shift 2 ;;
    --xcept-precision) xcept_precision="$2"; shift 2 ;;
    --no-torch) use_torch=0; shift ;;
    --no-ort) use_ort=0; shift ;;
    --no-xnnpack) use_xnnpack=0; shift ;;
    --train) train=1; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "compare_peers.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ "$train" = 1 ]; then
  models="${models:-mini-xception mini-mobilenet}" threads_list="${threads_list:-2}" use_ort=0 use_xnnpack=0
else
  models="${models:-xception mobilenet}" batches="${batches:-1 8}" threads_list="${threads_list:-1 2}"
fi

if [ -z "$xcept" ]; then
  for c in "$root/build/xcept" "$root"/build-*/xcept; do
    if [ -x "$c" ]; then xcept="$c"; break; fi
  done
fi
[ -x "$xcept" ] || { echo "compare_peers.sh: no xcept binary (build it, or pass --xcept)" >&2; exit 1; }
out="${out:-$(mktemp -d /tmp/xcept_peers.XXXXXX)}"
mkdir -p "$out"
results="$out/results.jsonl"
: > "$results"
py=/usr/bin/python3

# ORT also checks XNNPACK's outputs, so whether it is installed matters even with --no-ort.
have_ort=1 ort_missing=""
if ! command -v node > /dev/null; then
  have_ort=0; ort_missing="node is not installed"
elif [ ! -d "$peers/node_modules/onnxruntime-node" ]; then
  have_ort=0; ort_missing="run 'npm ci' in $peers first"
fi
if [ "$use_ort" = 1 ] && [ "$have_ort" = 0 ]; then
  echo "skipping ONNX Runtime: $ort_missing"; use_ort=0
fi
xnnpack_bin="$out/bench_xnnpack"
if [ "$use_xnnpack" = 1 ]; then
  if [ ! -f /usr/include/xnnpack.h ]; then
    echo "skipping XNNPACK: /usr/include/xnnpack.h is missing (scripts/setup.sh installs libxnnpack-dev)"; use_xnnpack=0
  elif ! command -v g++ > /dev/null; then
    echo "skipping XNNPACK: g++ is not installed"; use_xnnpack=0
  elif ! g++ -O2 -std=c++17 -DONNX_ML=1 \
         -DBENCH_XNNPACK_VERSION="\"$(dpkg-query -W -f '${Version}' libxnnpack-dev 2> /dev/null || echo unknown)\"" \
         "$peers/bench_xnnpack.cpp" "$peers/onnx_to_xnnpack.cpp" -o "$xnnpack_bin" \
         -lXNNPACK -lpthreadpool -lonnx_proto -lprotobuf -lpthread > "$out/xnnpack_build.log" 2>&1; then
    echo "skipping XNNPACK: bench_xnnpack does not compile (see $out/xnnpack_build.log)"; use_xnnpack=0
  elif [ "$have_ort" = 0 ]; then
    echo "XNNPACK runs unchecked: its check against ONNX Runtime needs ORT ($ort_missing)"
  fi
fi
if [ "$use_torch" = 1 ] && ! "$py" -c 'import torch' 2> /dev/null; then
  echo "skipping PyTorch: $py cannot import torch"; use_torch=0
fi

# Appends one JSON line with the fields the tables need. mode: infer or train; runtime:
# xcept, ort, torch-<mode> or torch-<layout>.
record() { # mode runtime model batch threads json
  "$py" - "$@" >> "$results" << 'EOF'
import json, sys
mode, runtime, model, batch, threads, text = sys.argv[1:7]
try:  # one JSON document (possibly pretty-printed), or JSON lines: take the last
    try:
        j = json.loads(text)
    except ValueError:
        j = json.loads(text.strip().splitlines()[-1])
except Exception:
    print(f"compare_peers.sh: {runtime} {model} b{batch} t{threads}: no JSON in its output", file=sys.stderr)
    sys.exit(0)
row = {"runtime": runtime, "model": model, "batch": int(batch), "threads": int(threads),
       "median_ms": j.get("median_ms"), "min_ms": j.get("min_ms"), "max_ms": j.get("max_ms")}
if mode == "train":
    row.update({"mode": "train", "images_per_s": j.get("images_per_s"),
                "peak_rss_bytes": j.get("peak_rss_bytes"), "params": j.get("params"),
                "version": j.get("torch_version")})
print(json.dumps(row))
EOF
}

# Records each JSON line of a peer's output as its own run; `key` is the field that tells
# the runs apart (runtime for torch's inference modes, layout for its training runs).
record_lines() { # mode key prefix model batch threads text
  local mode="$1" key="$2" prefix="$3" line name
  while IFS= read -r line; do
    [ -n "$line" ] || continue
    name="$("$py" -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$line" "$key")"
    record "$mode" "$prefix$name" "$4" "$5" "$6" "$line"
  done <<< "$7"
}

if [ "$train" = 1 ]; then
  cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2> /dev/null | head -1)"
  [ -n "$cpu" ] || cpu="$(lscpu 2> /dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -1)"
  echo "cpu: ${cpu:-unknown} ($(nproc) cores online)"
  echo "xcept: $xcept   results: $results"
  echo "load before: $(uptime)"
  train_batches() { # model: --batches, else the model's default
    if [ -n "$batches" ]; then echo "$batches"; return; fi
    case "$1" in mini-xception) echo 128 ;; mini-mobilenet) echo 64 ;; xception) echo 8 ;; *) echo 32 ;; esac
  }
  for model in $models; do
    for batch in $(train_batches "$model"); do
      for t in $threads_list; do
        echo "== train $model batch $batch threads $t"
        if j="$("$xcept" bench "$model" --train --batch "$batch" --threads "$t" --repeats "$repeats" \
                  --warmup "$warmup" --json 2> "$out/xcept.err")"; then
          record train xcept "$model" "$batch" "$t" "$j"
        else
          echo "  xcept bench --train failed: $(tail -1 "$out/xcept.err")"
        fi
        if [ "$use_torch" = 1 ]; then
          if j="$("$py" "$peers/train_torch.py" --model "$model" --batch "$batch" --threads "$t" \
                    --layout both --repeats "$repeats" --warmup "$warmup" --xcept "$xcept" \
                    2> "$out/torch.err")"; then
            record_lines train layout torch- "$model" "$batch" "$t" "$j"
          else
            echo "  PyTorch failed: $(tail -1 "$out/torch.err")"
          fi
        fi
      done
    done
  done
  echo "load after: $(uptime)"
  "$py" - "$results" << 'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
peers = ["xcept", "torch-nchw", "torch-channels_last"]
keys = []
for r in rows:  # in run order
    k = (r["model"], r["batch"], r["threads"])
    if k not in keys:
        keys.append(k)
runs = {(r["model"], r["batch"], r["threads"], r["runtime"]): r for r in rows}
def num(v): return isinstance(v, (int, float)) and not isinstance(v, bool)
def ips(r): return f"{r['images_per_s']:9.1f}" if r and num(r.get("images_per_s")) else f"{'-':>9}"
def rss(r): return f"{r['peak_rss_bytes'] / 2**20:7.0f}" if r and num(r.get("peak_rss_bytes")) else f"{'-':>7}"
versions = {r.get("version") for r in rows if r.get("version")}
print()
print("training step (forward, loss, backward, SGD momentum): images/s; ratio = xcept / best torch"
      " (> 1: xcept faster); peak RSS in MiB" + (f"; torch {', '.join(sorted(versions))}" if versions else ""))
print(f"{'model':<15} {'batch':>5} {'thr':>3} {'xcept':>9} {'tch-nchw':>9} {'tch-cl':>9} {'ratio':>6}"
      f"  {'rss-x':>7} {'rss-n':>7} {'rss-cl':>7}")
for m, b, t in keys:
    r = [runs.get((m, b, t, p)) for p in peers]
    x = r[0]["images_per_s"] if r[0] and num(r[0].get("images_per_s")) else None
    best = max((p["images_per_s"] for p in r[1:] if p and num(p.get("images_per_s"))), default=None)
    ratio = f"{x / best:6.2f}" if x and best else f"{'-':>6}"
    print(f"{m:<15} {b:>5} {t:>3} {ips(r[0])} {ips(r[1])} {ips(r[2])} {ratio}  "
          + " ".join(rss(p) for p in r))
EOF
  exit 0
fi

echo "xcept: $xcept (precision $xcept_precision)   results: $results"
echo "load before: $(uptime)"

input_size() { case "$1" in xception) echo 299 ;; mobilenet|conv-mobilenet) echo 224 ;; *) echo 0 ;; esac; }


for model in $models; do
  size="$(input_size "$model")"
  onnx="$out/$model.onnx"
  if [ "$use_ort" = 1 ] || [ "$use_xnnpack" = 1 ]; then
    "$xcept" export --model "$model" --output "$onnx" > /dev/null || { echo "export of $model failed"; }
  fi
  qdq="$out/${model}_int8.onnx" xcept_model="$model"
  if [ "$xcept_precision" = int8 ]; then
    "$xcept" export --model "$model" --precision int8 --output "$qdq" > /dev/null \
      && xcept_model="$qdq" || { echo "int8 export of $model failed"; }
  fi
  xnnpack_model=0  # XNNPACK times this model only when it translates it and matches ORT
  if [ "$use_xnnpack" = 1 ] && [ -f "$onnx" ]; then
    if [ "$have_ort" = 0 ]; then
      xnnpack_model=1
    elif c="$("$peers/check_xnnpack.sh" "$xnnpack_bin" "$onnx" --input-size "$size" 2> "$out/xnnpack.err")"; then
      echo "XNNPACK matches ONNX Runtime on $model: $c"; xnnpack_model=1
    else
      echo "XNNPACK failed: $(tail -1 "$out/xnnpack.err")"
    fi
  fi
  for batch in $batches; do
    for t in $threads_list; do
      echo "== $model ${size}x${size} batch $batch threads $t"
      size_arg=(--input-size "$size")
      [ "$xcept_model" = "$model" ] || size_arg=()  # the QDQ file fixes its input size
      if j="$("$xcept" bench "$xcept_model" --batch "$batch" --threads "$t" "${size_arg[@]}" \
                --precision "$xcept_precision" --warmup "$warmup" --repeats "$repeats" --json \
                2> "$out/xcept.err")"; then
        record infer xcept "$model" "$batch" "$t" "$j"
      else
        echo "  xcept bench failed: $(tail -1 "$out/xcept.err")"
      fi
      if [ "$use_ort" = 1 ] && [ -f "$onnx" ]; then
        if j="$(node "$peers/bench_ort.js" "$onnx" --batch "$batch" --threads "$t" \
                  --input-size "$size" --warmup "$warmup" --repeats "$repeats" 2> "$out/ort.err")"; then
          record infer ort "$model" "$batch" "$t" "$j"
        else
          echo "  ONNX Runtime failed: $(tail -1 "$out/ort.err")"
        fi
      fi
      if [ "$use_ort" = 1 ] && [ "$xcept_model" = "$qdq" ]; then
        if j="$(node "$peers/bench_ort.js" "$qdq" --batch "$batch" --threads "$t" \
                  --input-size "$size" --warmup "$warmup" --repeats "$repeats" 2> "$out/ort.err")"; then
          record infer ort-int8 "$model" "$batch" "$t" "$j"
        else
          echo "  ONNX Runtime int8 failed: $(tail -1 "$out/ort.err")"
        fi
      fi
      if [ "$xnnpack_model" = 1 ]; then
        if j="$("$xnnpack_bin" "$onnx" --batch "$batch" --threads "$t" --input-size "$size" \
                  --warmup "$warmup" --repeats "$repeats" 2> "$out/xnnpack.err")"; then
          record infer xnnpack "$model" "$batch" "$t" "$j"
        else
          echo "  XNNPACK failed: $(tail -1 "$out/xnnpack.err")"
        fi
      fi
      if [ "$use_torch" = 1 ]; then
        if j="$("$py" "$peers/bench_torch.py" --model "$model" --batch "$batch" --threads "$t" \
                  --input-size "$size" --warmup "$warmup" --repeats "$repeats" 2> "$out/torch.err")"; then
          record_lines infer runtime "" "$model" "$batch" "$t" "$j"
        else
          echo "  PyTorch failed: $(tail -1 "$out/torch.err")"
        fi
      fi
    done
  done
done

echo "load after: $(uptime)"
"$py" - "$results" "$xcept_precision" << 'EOF'
import json, sys
precision = sys.argv[2]
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
peers = ["ort", "xnnpack", "torch-eager", "torch-frozen", "torch-optimized"]
if any(r["runtime"] == "ort-int8" for r in rows):
    peers.insert(1, "ort-int8")
keys = sorted({(r["model"], r["batch"], r["threads"]) for r in rows},
              key=lambda k: (k[0], k[1], k[2]))
ms = {(r["model"], r["batch"], r["threads"], r["runtime"]): r["median_ms"] for r in rows}
def cell(v): return f"{v:10.1f}" if isinstance(v, (int, float)) else f"{'-':>10}"
def ratio(p, x): return f"{p / x:7.2f}" if isinstance(p, (int, float)) and isinstance(x, (int, float)) and x > 0 else f"{'-':>7}"
print()
print(f"median ms per batch; xcept in {precision}, peers in f32 (ort-int8: the same QDQ file);"
      " ratio = peer / xcept (> 1: xcept faster)")
print(f"{'model':<14} {'batch':>5} {'thr':>3} {'xcept':>10} " + " ".join(f"{p:>15}" for p in peers)
      + "  " + " ".join(f"{p[:7]:>7}" for p in peers))
for m, b, t in keys:
    x = ms.get((m, b, t, "xcept"))
    print(f"{m:<14} {b:>5} {t:>3} {cell(x)} " + " ".join(f"{cell(ms.get((m, b, t, p))):>15}" for p in peers)
          + "  " + " ".join(ratio(ms.get((m, b, t, p)), x) for p in peers))
EOF
