// Conversions between Python values and the library's: JSON documents as dicts and lists
// (the same documents the CLI prints with --json), keyword arguments as option structs.
#pragma once

#include <pybind11/pybind11.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "xcept/xcept.h"

namespace xcept::python {

namespace py = pybind11;

py::object to_python(const nlohmann::json& j);

// Takes the keys it knows out of `kwargs` (so the caller can reject what is left).
ZooOptions take_zoo_options(py::dict& kwargs);
// Raises TypeError naming the keys left in `kwargs`.
void reject_unknown(const py::dict& kwargs, const char* function);

// A shape argument: a sequence of ints (one input) or a sequence of such sequences.
std::vector<Dims> to_dims_list(const py::object& shape);

}  // namespace xcept::python
