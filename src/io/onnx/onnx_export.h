// Export of a network (autograd::Graph) to ONNX, for other runtimes and for comparing
// against them.
//
// The exported model speaks ONNX's layout, not ours: its input is NCHW [batch, C, H, W]
// with a symbolic batch dimension ("batch"), feature maps are NCHW throughout and
// convolution weights OIHW (ours, HWIO [kh][kw][c/g][m], are transposed). Vectors after
// GlobalAvgPool2D / Flatten are [batch, N] as in xcept. Flatten of a feature map keeps
// xcept's NHWC order (a Transpose to NHWC precedes it), so a Dense layer's weights carry
// over unchanged.
//
// Opset 13, IR version 8. Layer by layer:
//   Conv2D / Grouped / Depthwise / Pointwise -> Conv (TF 'same' padding as explicit pads,
//     the odd pixel at the end; depthwise with multiplier d is group = C, C*d outputs)
//   SeparableConv2D -> two Convs in the layer's order, the mid activation between them
//   BatchNorm -> BatchNormalization (inference: moving statistics, the layer's epsilon)
//   Activation -> Relu, Clip(0, 6) (min and max as inputs, opset 13), Elu; none -> nothing
//   MaxPool2D / AvgPool2D -> MaxPool / AveragePool with explicit pads; average pooling
//     divides by the taps inside the input (count_include_pad = 0), as xcept and TF do
//   GlobalAvgPool2D -> GlobalAveragePool + Flatten;  Dense -> Gemm (B = weight [N][M])
//   Add -> Add (chained in input order);  Concat -> Concat on the channel axis
//   Flatten -> [Transpose to NHWC +] Flatten;  ChannelShuffle -> Reshape/Transpose/Reshape
//   Dropout -> nothing (inference)
// Any other layer type, or a tensor that is neither a feature map {H,W,C} nor a vector {N}
// per image, throws xcept::Error naming the node.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "autograd/graph.h"
#include "io/onnx/onnx_fwd.h"

namespace xcept {

class Program;

inline constexpr int64_t kOnnxExportOpset = 13;
inline constexpr int64_t kOnnxExportIrVersion = 8;

// metadata_props keys `xcept export` writes and Model::from_onnx reads back: the input
// normalization ({"mean": [...], "std": [...]}) and the class names (a JSON list).
inline constexpr const char* kOnnxNormalizeKey = "xcept.normalize";
inline constexpr const char* kOnnxClassNamesKey = "xcept.class_names";

struct OnnxExportOptions {
  std::string input_name = "input";
  std::string output_name = "logits";
  std::string doc;  // free text for ModelProto.doc_string
  // Written to ModelProto.metadata_props, e.g. {"xcept.model_config", "{...}"}.
  std::vector<std::pair<std::string, std::string>> metadata;
};

// The graph must have its input and output set; parameters are copied, so the graph may
// change afterwards. Graph is non-const only because layers hand out their tensors
// through non-const accessors.
onnx::ModelProto export_onnx(Graph& graph, const OnnxExportOptions& options = {});

// An int8 program (runtime/quantize.h) of an xcept network (NHWC values, one input, one
// output) as a QDQ ONNX model, the format ONNX Runtime's quantizer writes and runs on its
// int8 kernels: every uint8 value is a QuantizeLinear output with the program's scale and
// zero point, each int8 step reads DequantizeLinear of its inputs, its weights as int8
// codes with per-output-channel scales (DequantizeLinear, axis 0 for Conv, 1 for Gemm's
// [K][M] weight) and its bias as int32 at x_scale * w_scale[o], runs the float operator
// and its fused activation (Relu, or Clip to the codes' clamp), and quantizes the result.
// So the model computes what the program computes, up to the rounding of the
// requantization multiplier. Steps the program runs in float are exported as float
// operators. NCHW input [batch, C, H, W] and output [batch, N] as export_onnx writes; the
// batch is symbolic. Throws xcept::Error naming a step with no ONNX form here.
onnx::ModelProto export_onnx_qdq(const Program& program, const OnnxExportOptions& options = {});

// Serializes `model` to "<path>.tmp.<pid>", fsyncs, and renames it over `path`: a reader
// sees the old file or the new one. Throws xcept::Error naming `path` on any failure (an
// existing file is then untouched), or when the model exceeds protobuf's 2 GiB limit.
void save_onnx(const onnx::ModelProto& model, const std::string& path);

}  // namespace xcept
