// The Python module `xcept`: models from ONNX files and checkpoints callable on NumPy
// arrays, summaries and convolution costs as dicts (the documents `--json` prints),
// training with a per-epoch callback. xcept::Error becomes xcept.Error with the same
// message. The GIL is released while the engine computes.
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "api/json.h"
#include "python_convert.h"
#include "xcept/xcept.h"

namespace py = pybind11;
using namespace xcept;
using namespace xcept::python;

namespace {

Layout parse_layout(const std::string& s) {
  if (s == "nchw" || s == "NCHW") return Layout::nchw;
  if (s == "nhwc" || s == "NHWC") return Layout::nhwc;
  throw Error("layout must be 'nchw' or 'nhwc', got '" + s + "'");
}

const char* layout_name(Layout l) { return l == Layout::nchw ? "nchw" : "nhwc"; }

// Per-image dims of a model's input or output as the caller sees them.
Dims caller_dims(const Dims& d, Layout model, Layout caller) {
  Dims r(d.begin() + 1, d.end());
  if (r.size() == 3 && model != caller)
    r = caller == Layout::nchw ? Dims{r[2], r[0], r[1]} : Dims{r[1], r[2], r[0]};
  return r;
}

std::string shape_text(const Dims& per_image) {
  std::string s = "(N";
  for (int64_t v : per_image) s += ", " + std::to_string(v);
  return s + ")";
}

// A Model with the layout its calls use.
struct PyModel {
  Model model;
  Layout layout;

  Dims input_shape() const { return caller_dims(model.input_dims(), model.layout(), layout); }
  Dims output_shape() const { return caller_dims(model.output_dims(), model.layout(), layout); }

  // Reads a C-contiguous float32 array in place (others are converted first) and writes
  // straight into the array it returns.
  py::array_t<float> call(py::array_t<float, py::array::c_style | py::array::forcecast> x) {
    const Dims want = input_shape();
    bool ok = x.ndim() == py::ssize_t(want.size() + 1) && x.shape(0) > 0;
    for (size_t i = 0; ok && i < want.size(); ++i) ok = x.shape(py::ssize_t(i + 1)) == want[i];
    if (!ok) {
      std::string got = "(";
      for (py::ssize_t i = 0; i < x.ndim(); ++i) got += (i ? ", " : "") + std::to_string(x.shape(i));
      throw Error(model.name() + ": expected an array of shape " + shape_text(want) + " (" +
                  (want.size() == 3 ? layout_name(layout) : "") + "), got " + got + ")");
    }
    std::vector<py::ssize_t> out_shape{x.shape(0)};
    for (int64_t v : output_shape()) out_shape.push_back(v);
    py::array_t<float> y(out_shape);
    std::span<const float> in(x.data(), size_t(x.size()));
    std::span<float> out(y.mutable_data(), size_t(y.size()));
    {
      py::gil_scoped_release release;
      model.run(in, out, layout);
    }
    return y;
  }
};

py::dict summary(const std::string& name_or_path, py::kwargs kwargs) {
  py::dict kw(kwargs);
  const ZooOptions zoo = take_zoo_options(kw);
  std::vector<Dims> dims;
  bool bench = false;
  MeasureOptions mo;
  if (kw.contains("input_shape")) {
    dims = to_dims_list(kw["input_shape"]);
    PyDict_DelItemString(kw.ptr(), "input_shape");
  }
  for (const char* key : {"bench", "batch", "repeats"}) {
    if (!kw.contains(key)) continue;
    if (std::string(key) == "bench") bench = kw[key].cast<bool>();
    else if (std::string(key) == "batch") mo.batch = kw[key].cast<int64_t>();
    else mo.repeats = kw[key].cast<int>();
    PyDict_DelItemString(kw.ptr(), key);
  }
  reject_unknown(kw, "summary");
  nlohmann::json j;
  {
    py::gil_scoped_release release;
    const ModelSummary s = summarize(name_or_path, zoo, dims);
    if (bench) {
      const Roofline r = measure_roofline();
      j = to_json(s, measure_model(name_or_path, mo, r, zoo, dims), mo, r);
    } else {
      j = to_json(s);
    }
  }
  return to_python(j);
}

py::dict convs(const std::vector<int64_t>& input, int64_t out, int64_t kernel, int64_t groups,
               int64_t stride, int64_t multiplier, const std::string& padding, bool bias,
               bool bench, int64_t batch, int repeats) {
  if (input.size() != 3) throw Error("convs: input must be (height, width, channels)");
  ConvQuery q;
  q.height = input[0], q.width = input[1], q.channels = input[2];
  q.filters = out, q.kernel = kernel, q.groups = groups, q.stride = stride;
  q.multiplier = multiplier, q.padding = padding, q.bias = bias;
  nlohmann::json j;
  {
    py::gil_scoped_release release;
    const std::vector<ConvTypeCost> rows = conv_family_costs(q);
    if (bench) {
      MeasureOptions mo;
      mo.batch = batch;
      mo.repeats = repeats;
      const Roofline r = measure_roofline();
      j = to_json(q, rows, measure_conv_family(q, mo, r), mo, r);
    } else {
      j = to_json(q, rows);
    }
  }
  return to_python(j);
}

template <typename T>
void take_option(py::dict& kw, const char* key, T& field) {
  if (!kw.contains(key)) return;
  field = kw[key].cast<T>();
  PyDict_DelItemString(kw.ptr(), key);
}

py::dict train_model(const std::string& model, const std::string& data, int64_t epochs,
                     const py::object& callback, py::kwargs kwargs) {
  py::dict kw(kwargs);
  TrainOptions o;
  o.model = model;
  o.data_dir = data;
  o.epochs = epochs;
  take_option(kw, "seed", o.seed);  // the run's seed (data order, augmentation, dropout)
  o.model_options = take_zoo_options(kw);
  take_option(kw, "batch_size", o.batch_size);
  take_option(kw, "optimizer", o.optimizer);
  take_option(kw, "lr", o.lr);
  take_option(kw, "schedule", o.schedule);
  take_option(kw, "warmup_epochs", o.warmup_epochs);
  take_option(kw, "momentum", o.momentum);
  take_option(kw, "nesterov", o.nesterov);
  take_option(kw, "weight_decay", o.weight_decay);
  take_option(kw, "label_smoothing", o.label_smoothing);
  take_option(kw, "crop_padding", o.crop_padding);
  take_option(kw, "flip", o.horizontal_flip);
  take_option(kw, "normalize", o.normalize);
  take_option(kw, "out", o.out_dir);
  take_option(kw, "resume", o.resume);
  take_option(kw, "limit_train", o.limit_train);
  take_option(kw, "limit_test", o.limit_test);
  take_option(kw, "teacher", o.teacher);
  take_option(kw, "distill_temperature", o.distill_temperature);
  take_option(kw, "distill_alpha", o.distill_alpha);
  reject_unknown(kw, "train");

  TrainEvents ev;
  // Ctrl-C reaches the loop between batches; the callback runs with the GIL held.
  ev.on_batch = [](const BatchProgress&) {
    py::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
  };
  if (!callback.is_none())
    ev.on_epoch = [&](const EpochMetrics& e) {
      py::gil_scoped_acquire gil;
      callback(to_python(to_json(e)));
    };
  TrainRun r;
  {
    py::gil_scoped_release release;
    r = train(o, ev);
  }
  return to_python(to_json(r));
}

}  // namespace

PYBIND11_MODULE(xcept, m) {
  m.doc() = "xcept: lightweight convolutional networks (Xception, MobileNet) - run, count, train";
  static py::exception<Error> error(m, "Error");
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const Error& e) {
      error(e.what());
    }
  });

  py::class_<PyModel>(m, "Model", "A compiled model; call it on a float32 array of images.")
      .def("__call__", &PyModel::call, py::arg("x"),
           "Runs the model on a batch: x has shape (N, ...) as input_shape says (float32, "
           "C-contiguous arrays are read in place); returns (N, ...) as output_shape says.")
      .def_property_readonly("input_shape", &PyModel::input_shape,
                             "per-image input shape in the call layout")
      .def_property_readonly("output_shape", &PyModel::output_shape)
      .def_property_readonly("layout", [](const PyModel& p) { return layout_name(p.layout); })
      .def_property_readonly("native_layout",
                             [](const PyModel& p) { return layout_name(p.model.layout()); })
      .def_property_readonly("class_names", [](const PyModel& p) { return p.model.class_names(); })
      .def_property_readonly("normalization",
                             [](const PyModel& p) -> py::object {
                               const Normalization& n = p.model.normalization();
                               if (n.empty()) return py::none();
                               return py::dict(py::arg("mean") = n.mean, py::arg("std") = n.std);
                             })
      .def_property_readonly("name", [](const PyModel& p) { return p.model.name(); })
      .def("__repr__", [](const PyModel& p) {
        return "<xcept.Model " + p.model.name() + " input " + shape_text(p.input_shape()) + " " +
               layout_name(p.layout) + ">";
      });

  m.def("load_onnx",
        [](const std::string& path, const py::object& input_shape, const std::string& layout,
           bool normalize) {
          LoadOptions o;
          o.normalize = normalize;
          const std::vector<Dims> dims = to_dims_list(input_shape);
          const Layout l = parse_layout(layout);
          py::gil_scoped_release release;
          return PyModel{Model::from_onnx(path, dims, o), l};
        },
        py::arg("path"), py::arg("input_shape") = py::none(), py::arg("layout") = "nchw",
        py::arg("normalize") = true,
        "An ONNX model. input_shape: the NCHW dims of its input (or a list, one per input); "
        "default: as the file declares them. Calls take `layout` arrays.");
  m.def("load_checkpoint",
        [](const std::string& path, const std::string& layout, bool normalize) {
          LoadOptions o;
          o.normalize = normalize;
          const Layout l = parse_layout(layout);
          py::gil_scoped_release release;
          return PyModel{Model::from_checkpoint(path, o), l};
        },
        py::arg("path"), py::arg("layout") = "nchw", py::arg("normalize") = true,
        "A training checkpoint: calls take images in [0, 1] and normalize them as training did.");
  m.def("summary", &summary, py::arg("name_or_path"),
        "Per-layer parameters and MACs of a zoo model (with its options as keywords: alpha=, "
        "input_size=, ...), a checkpoint or an ONNX file (input_shape=), as a dict; "
        "bench=True adds measured time per step and a roofline reading (batch=, repeats=).");
  m.def("convs", &convs, py::arg("input") = std::vector<int64_t>{19, 19, 728},
        py::arg("out") = 728, py::arg("kernel") = 3, py::arg("groups") = 1,
        py::arg("stride") = 1, py::arg("multiplier") = 1, py::arg("padding") = "same",
        py::arg("bias") = false, py::arg("bench") = false, py::arg("batch") = 1,
        py::arg("repeats") = 10,
        "Parameters and MACs of every convolution type at one layer shape (height, width, "
        "channels); bench=True also times each one here.");
  m.def("train", &train_model, py::arg("model") = "mini-mobilenet",
        py::arg("data") = "/usr/share/datasets/fashion-mnist", py::arg("epochs") = 10,
        py::arg("callback") = py::none(),
        "Trains a zoo model on a dataset folder into out= (best.ckpt, last.ckpt, "
        "metrics.jsonl); callback(metrics: dict) after every epoch. Other keywords: "
        "batch_size, optimizer, lr, schedule, momentum, weight_decay, label_smoothing, "
        "crop_padding, flip, seed, resume, limit_train, limit_test, teacher, "
        "distill_temperature, distill_alpha and the zoo options.");
  m.def("plot",
        [](const std::vector<std::string>& metrics, const std::string& out, const std::string& title) {
          PlotOptions o;
          o.title = title;
          py::gil_scoped_release release;
          plot_metrics(metrics, out, o);
        },
        py::arg("metrics"), py::arg("out") = "curves.png", py::arg("title") = "",
        "Draws the loss and accuracy curves of metrics.jsonl files into out (.png or .svg) "
        "through gnuplot.");
  m.def("models", [] {
    py::list l;
    for (const ZooModel& z : zoo_models())
      l.append(py::dict(py::arg("name") = z.name, py::arg("description") = z.description,
                        py::arg("input") = z.default_input));
    return l;
  });
  m.def("num_threads", &num_threads);
  m.def("set_num_threads", &set_num_threads, py::arg("threads"), "0: all cores");
  m.def("max_isa", [] { return std::string(isa_name(max_isa())); });
  m.def("set_max_isa", [](const std::string& isa) { set_max_isa(parse_isa(isa)); },
        py::arg("isa"), "generic|avx2|avx512: cap the instruction set kernels use");
}
