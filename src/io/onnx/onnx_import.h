// An ONNX model -> an inference Program, compiled for the concrete shapes of its inputs.
//
// Constants: initializers and Constant nodes are constants, and every node whose inputs
// are all constants is evaluated at import time (this folds the Shape/Gather/Concat/
// Reshape arithmetic exporters emit). Slots that parameterize an op (Conv W and B, batch
// norm statistics, Reshape shape, Pad pads, Clip bounds, Gather indices, Slice starts...)
// must be constant. A graph input that is not an initializer is a runtime input of the
// program; when the caller also supplies its value (the conformance runner and `xcept
// run` do, from the input files), that value serves wherever a constant is required, e.g.
// ONNX node tests that pass Conv weights as graph inputs. Integer graph inputs must be
// supplied and are constants only.
//
// Layout: ONNX is NCHW; convolution-family ops run NHWC. Each value carries a layout tag;
// the first convolution-family op converts to NHWC, layout-agnostic ops keep it, and
// layout-sensitive ops (Reshape, Flatten, Transpose, Softmax, Gather, outputs...) get a
// Transpose back to NCHW first. See docs/design/onnx.md.
#pragma once

#include <string>
#include <vector>

#include "core/error.h"
#include "io/onnx/onnx_tensor.h"
#include "io/onnx/onnx_fwd.h"
#include "runtime/program.h"
#include "runtime/quantize.h"

namespace xcept {

// An operator, attribute or data type the importer does not handle (as opposed to a
// malformed model): the conformance runner skips these.
class OnnxUnsupported : public Error {
 public:
  using Error::Error;
};

// One non-initializer graph input, in graph order: its dims, and optionally its value.
struct OnnxInput {
  Dims dims;
  const HostTensor* value = nullptr;  // not owned; needed for integer inputs
};

// What one ONNX node became, for per-node summaries (`xcept summary M.onnx`).
struct OnnxNodeReport {
  std::string name, op_type;
  Dims output;          // ONNX's (logical, NCHW) dims of its first output, batch included
  int64_t params = 0;   // elements of the float initializers it reads (counted at the first reader)
  int64_t params_trainable = 0;  // the same without batch norm's running mean and variance
  size_t first_step = 0, end_step = 0;  // the program steps it added: [first, end)
  bool folded = false;  // its output was computed at import time (shape arithmetic)
};

// The real range of each program value a QDQ model quantizes (QuantizeLinear's scale and
// zero point, over the codes of its type), by value id: ids survive optimize(), names
// are read after it (quantize_onnx_ranges).
using OnnxValueRanges = std::map<ValueId, ActivationRange>;

struct OnnxImportOptions {
  std::string model_name = "model";  // starts error messages (usually the path)
  std::string base_dir;              // for external data; empty refuses it
  std::vector<OnnxNodeReport>* node_report = nullptr;  // when set: one entry per node imported
  OnnxValueRanges* value_ranges = nullptr;  // when set: filled from QuantizeLinear nodes
};

// The program's inputs are the float graph inputs (in graph order, NCHW as ONNX gives
// them); its outputs the graph outputs in NCHW. Unoptimized: call optimize() after.
// Throws xcept::Error naming the node (type and name) for an unsupported operator or
// attribute, and the value for dangling inputs, cycles and duplicate outputs.
Program import_onnx(const onnx::ModelProto& model, const std::vector<OnnxInput>& inputs,
                    const OnnxImportOptions& options = {});

// Convenience: every input supplied (values double as constants where needed).
Program import_onnx(const onnx::ModelProto& model, const std::vector<HostTensor>& inputs,
                    const OnnxImportOptions& options = {});

// Names of the non-initializer graph inputs, in graph order (what `inputs` lists).
std::vector<std::string> onnx_graph_input_names(const onnx::ModelProto& model);
std::vector<std::string> onnx_graph_output_names(const onnx::ModelProto& model);

// The dims the non-initializer graph inputs declare, in graph order, with a symbolic
// first dimension (a batch "N") set to `batch`. Throws xcept::Error naming `model_name`, the
// input and the axis when an input declares no shape or a symbolic dimension other than
// the first: its dims must then be given.
std::vector<Dims> onnx_declared_input_dims(const onnx::ModelProto& model, int64_t batch,
                                           const std::string& model_name);

// Whether the model quantizes activations (has a QuantizeLinear node): a QDQ model,
// whose program runs in float with the quantization steps as identities, and whose
// int8 program takes its encodings from those nodes.
bool onnx_has_qdq(const onnx::ModelProto& model);

// QOperator models (QLinearConv, QLinearMatMul) rewritten as QDQ, which import_onnx
// reads: each node becomes DequantizeLinear of its operands, the float operator and
// QuantizeLinear of its result (import_onnx does this itself when it meets them).
bool onnx_has_qoperators(const onnx::ModelProto& model);
onnx::ModelProto qoperators_as_qdq(const onnx::ModelProto& model, const std::string& model_name);

// The ranges by value name of `program` (imported with value_ranges, then optimized).
ActivationRanges named_ranges(const Program& program, const OnnxValueRanges& ranges);

// The value of metadata_props `key`, or "" when the model has none.
std::string onnx_metadata(const onnx::ModelProto& model, const std::string& key);

}  // namespace xcept
