// xcept: lightweight convolutional networks (Xception, MobileNet and the convolution
// family they are made of) in C++: build, count, train and run them.
//
//   #include <xcept/xcept.h>       find_package(xcept) -> target xcept::xcept
//                                  pkg-config --cflags --libs xcept
//
//   settings.h  threads and instruction-set cap (the only process-wide state)
//   network.h   the zoo and a builder for networks of your own
//   model.h     a model from ONNX, a checkpoint or a Network, run on your buffers
//   image.h     JPEG/PNG files as model inputs
//   train.h     training a zoo model on a dataset folder, with callbacks
//   summary.h   parameters and MACs per layer; the convolution family's costs
//   measure.h   measured costs: time per layer, GFLOP/s, bytes, roofline
//   plot.h      loss and accuracy curves of training runs (through gnuplot)
//   error.h     xcept::Error, the one exception the library throws
#pragma once

#include "xcept/error.h"
#include "xcept/image.h"
#include "xcept/measure.h"
#include "xcept/model.h"
#include "xcept/network.h"
#include "xcept/plot.h"
#include "xcept/settings.h"
#include "xcept/summary.h"
#include "xcept/train.h"
#include "xcept/types.h"
