"""The Python module: models on NumPy arrays, dicts equal to what the CLI prints with
--json, training with a callback, errors as xcept.Error. Runs from ctest (python_tests)
with PYTHONPATH=<build>/python and XCEPT_CLI, XCEPT_SOURCE_DIR set."""
import json
import os
import struct
import subprocess

import numpy as np
import pytest

import xcept

CLI = os.environ.get("XCEPT_CLI", "xcept")
SOURCE = os.environ.get("XCEPT_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
BLOCK = os.path.join(SOURCE, "tests", "data", "onnx", "mobilenet_block")


def cli_json(*args):
    out = subprocess.run([CLI, *args, "--json"], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def write_quadrants(folder, prefix, n, seed):
    """An IDX dataset the small models learn at once: class c lights quadrant c of 8x8."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, n).astype(np.uint8)
    images = rng.integers(20, 80, (n, 8, 8)).astype(np.uint8)
    for i, c in enumerate(labels):
        y, x = divmod(int(c), 2)
        images[i, 4 * y:4 * y + 4, 4 * x:4 * x + 4] += 140
    with open(os.path.join(folder, f"{prefix}-images-idx3-ubyte"), "wb") as f:
        f.write(struct.pack(">IIII", 0x803, n, 8, 8) + images.tobytes())
    with open(os.path.join(folder, f"{prefix}-labels-idx1-ubyte"), "wb") as f:
        f.write(struct.pack(">II", 0x801, n) + labels.tobytes())
    return images, labels


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("run")
    data = root / "data"
    data.mkdir()
    images, labels = write_quadrants(str(data), "train", 128, 1)
    write_quadrants(str(data), "t10k", 32, 2)
    seen = []
    run = xcept.train(model="mini-mobilenet", data=str(data), epochs=2, callback=seen.append,
                      alpha=0.25, batch_size=16, lr=3e-3, seed=7, out=str(root / "out"))
    return run, seen, images, labels


def test_train_reports_each_epoch_through_the_callback(trained):
    run, seen, _, _ = trained
    assert [e["epoch"] for e in seen] == [1, 2]
    assert run["epochs"] == seen
    assert set(seen[0]) >= {"train_loss", "train_accuracy", "test_loss", "test_accuracy", "lr"}
    assert os.path.exists(run["last_checkpoint"]) and os.path.exists(run["metrics"])


def test_train_distils_from_a_teacher_checkpoint(trained, tmp_path):
    run = trained[0]
    data = os.path.join(os.path.dirname(os.path.dirname(run["last_checkpoint"])), "data")
    student = xcept.train(model="mini-mobilenet", data=data, epochs=1, alpha=0.25,
                          batch_size=32, seed=1, out=str(tmp_path / "student"),
                          limit_train=64, teacher=run["last_checkpoint"],
                          distill_temperature=2.0, distill_alpha=0.5)
    assert len(student["epochs"]) == 1
    with pytest.raises(xcept.Error, match="alpha"):
        xcept.train(model="mini-mobilenet", data=data, epochs=1, out=str(tmp_path / "bad"),
                    teacher=run["last_checkpoint"], distill_alpha=1.5)


def test_plot_draws_the_run(trained, tmp_path):
    run = trained[0]
    out = str(tmp_path / "curves.svg")
    try:
        xcept.plot([run["metrics"]], out=out)
    except xcept.Error as e:  # gnuplot missing: said, not crashed
        assert "gnuplot" in str(e)
        pytest.skip(str(e))
    with open(out) as f:
        assert "<svg" in f.read(400)


def test_checkpoint_classifies_images_in_either_layout(trained):
    run, _, images, labels = trained
    m = xcept.load_checkpoint(run["last_checkpoint"])
    assert m.native_layout == "nhwc" and m.layout == "nchw"
    assert m.input_shape == [1, 8, 8] and m.output_shape == [10]
    assert m.class_names == [str(i) for i in range(10)]
    assert len(m.normalization["mean"]) == 1
    x = (images[:64] / 255.0).astype(np.float32)
    logits = m(x[:, None, :, :])  # NCHW
    assert logits.shape == (64, 10) and logits.dtype == np.float32
    assert (logits.argmax(1) == labels[:64]).mean() > 0.5  # chance is 0.25
    nhwc = xcept.load_checkpoint(run["last_checkpoint"], layout="nhwc")
    np.testing.assert_array_equal(nhwc(x[:, :, :, None]), logits)
    # Another batch size recompiles; float64 and strided arrays are converted.
    np.testing.assert_allclose(m(x[:3, None].astype(np.float64)), logits[:3], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(m(x[::2, None]), logits[::2], rtol=1e-5, atol=1e-5)


def test_onnx_model_reproduces_its_recorded_output():
    m = xcept.load_onnx(os.path.join(BLOCK, "model.onnx"))
    x = np.load(os.path.join(BLOCK, "test_data_set_0", "input_0.npy"))
    want = np.load(os.path.join(BLOCK, "test_data_set_0", "output_0.npy"))
    np.testing.assert_allclose(m(x), want, rtol=1e-4, atol=1e-5)
    # The file fixes batch 1: three images run one by one.
    np.testing.assert_allclose(m(np.concatenate([x, x, x])), np.concatenate([want] * 3),
                               rtol=1e-4, atol=1e-5)
    # NHWC in, NHWC out: the same numbers.
    m2 = xcept.load_onnx(os.path.join(BLOCK, "model.onnx"), layout="nhwc")
    assert m2.input_shape == [32, 32, 3]
    got = m2(np.ascontiguousarray(x.transpose(0, 2, 3, 1)))
    np.testing.assert_allclose(got.transpose(0, 3, 1, 2), want, rtol=1e-4, atol=1e-5)


def test_summary_and_convs_are_the_cli_documents():
    assert xcept.summary("mini-xception", alpha=0.5) == cli_json("summary", "mini-xception", "--alpha", "0.5")
    onnx = os.path.join(BLOCK, "model.onnx")
    assert xcept.summary(onnx) == cli_json("summary", onnx)
    # The architecture keywords are the flags: groups, channel_shuffle, separable (--full-conv).
    assert xcept.summary("mini-mobilenet", alpha=0.25, groups=2, channel_shuffle=True) == cli_json(
        "summary", "mini-mobilenet", "--alpha", "0.25", "--groups", "2", "--channel-shuffle")
    assert xcept.summary("mini-xception", alpha=0.25, separable=False) == cli_json(
        "summary", "mini-xception", "--alpha", "0.25", "--full-conv")
    assert xcept.convs(input=(32, 32, 16), out=32, kernel=5, groups=4, stride=2) == cli_json(
        "convs", "--in", "32x32x16", "--out", "32", "--kernel", "5", "--groups", "4", "--stride", "2")


def test_measured_costs_are_well_formed():
    c = xcept.convs(input=(8, 8, 16), out=16, kernel=3, bench=True, repeats=1)
    assert c["bench"]["peak_gflops"] > 0
    assert c["bench"]["memory"][-1]["level"] == "DRAM"
    assert all(level["bandwidth_gbs"] > 0 for level in c["bench"]["memory"])
    for t in c["types"]:
        m = t["measured"]
        assert m["ms"] >= 0 and m["bytes"] > 0 and m["bound"] in ("compute", "memory")
    assert c["types"][0]["measured"]["time_ratio_to_normal"] == pytest.approx(1.0)
    s = xcept.summary("mini-mobilenet", alpha=0.25, bench=True, repeats=1)
    assert len(s["bench"]["steps"]) > 0 and s["bench"]["total_ms"] >= 0


def test_errors_are_xcept_errors_with_the_library_message():
    with pytest.raises(xcept.Error, match="unknown model 'nope'"):
        xcept.summary("nope")
    with pytest.raises(xcept.Error, match="missing.onnx"):
        xcept.load_onnx("/nowhere/missing.onnx")
    m = xcept.load_onnx(os.path.join(BLOCK, "model.onnx"))
    with pytest.raises(xcept.Error, match=r"expected an array of shape \(N, 3, 32, 32\)"):
        m(np.zeros((1, 32, 32, 3), np.float32))
    with pytest.raises(xcept.Error, match="epochs must be positive"):
        xcept.train(epochs=0)
    with pytest.raises(TypeError, match="colour"):
        xcept.summary("mini-mobilenet", colour="blue")


def test_settings_round_trip():
    threads, isa = xcept.num_threads(), xcept.max_isa()
    xcept.set_num_threads(1)
    assert xcept.num_threads() == 1
    xcept.set_max_isa("generic")
    assert xcept.max_isa() == "generic"
    xcept.set_num_threads(threads)
    xcept.set_max_isa("avx512")
    assert xcept.max_isa() == isa
