#include "python_convert.h"

#include <pybind11/stl.h>

namespace xcept::python {

py::object to_python(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null: return py::none();
    case nlohmann::json::value_t::boolean: return py::bool_(j.get<bool>());
    case nlohmann::json::value_t::number_integer: return py::int_(j.get<int64_t>());
    case nlohmann::json::value_t::number_unsigned: return py::int_(j.get<uint64_t>());
    case nlohmann::json::value_t::number_float: return py::float_(j.get<double>());
    case nlohmann::json::value_t::string: return py::str(j.get<std::string>());
    case nlohmann::json::value_t::array: {
      py::list l;
      for (const auto& v : j) l.append(to_python(v));
      return l;
    }
    case nlohmann::json::value_t::object: {
      py::dict d;
      for (const auto& [k, v] : j.items()) d[py::str(k)] = to_python(v);
      return d;
    }
    default: return py::none();
  }
}

namespace {

template <typename T>
void take(py::dict& kw, const char* key, T& field) {
  if (!kw.contains(key)) return;
  field = kw[key].cast<T>();
  PyDict_DelItemString(kw.ptr(), key);
}

}  // namespace

ZooOptions take_zoo_options(py::dict& kw) {
  ZooOptions z;
  take(kw, "classes", z.classes);
  take(kw, "input_size", z.input_size);
  take(kw, "input_channels", z.input_channels);
  take(kw, "alpha", z.alpha);
  take(kw, "mid_activation", z.mid_activation);
  take(kw, "order", z.order);
  take(kw, "residual", z.residual);
  take(kw, "middle_repeats", z.middle_repeats);
  take(kw, "dropout", z.dropout);
  take(kw, "module", z.inception_module);
  take(kw, "separable", z.separable);
  take(kw, "groups", z.groups);
  take(kw, "channel_shuffle", z.channel_shuffle);
  take(kw, "seed", z.seed);
  return z;
}

void reject_unknown(const py::dict& kw, const char* function) {
  if (kw.empty()) return;
  std::string keys;
  for (const auto& [k, v] : kw) keys += (keys.empty() ? "" : ", ") + py::str(k).cast<std::string>();
  throw py::type_error(std::string(function) + "() got unexpected keyword argument(s): " + keys);
}

std::vector<Dims> to_dims_list(const py::object& shape) {
  if (shape.is_none()) return {};
  const py::sequence seq = shape.cast<py::sequence>();
  if (seq.size() > 0 && py::isinstance<py::sequence>(seq[0]))
    return shape.cast<std::vector<Dims>>();
  return {shape.cast<Dims>()};
}

}  // namespace xcept::python
