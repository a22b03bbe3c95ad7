#!/usr/bin/python3
"""Writes the fuzzers' seed corpus (fuzz/corpus/): a few tiny valid ONNX models with
their weights as initializers (the layers xcept exports: Conv, grouped and depthwise Conv,
BatchNormalization, Relu, Clip, Elu, MaxPool, AveragePool, GlobalAveragePool, Flatten,
Gemm, Add, Concat, Reshape/Transpose channel shuffle), a few ONNX node tests from
libonnx-testdata, and small .npy / TensorProto files. Deterministic; run it again only to
change the seeds:  /usr/bin/python3 fuzz/make_seeds.py
"""
import io
import os
import shutil

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.join(HERE, 'corpus', 'onnx_model')
TENSORS = os.path.join(HERE, 'corpus', 'tensor_file')
TESTDATA = '/usr/share/libonnx-testdata/data/node'
rng = np.random.default_rng(1)


def init(name, shape, dtype=np.float32):
    if dtype == np.int64:
        return numpy_helper.from_array(np.array(shape, dtype=np.int64), name)
    return numpy_helper.from_array(rng.uniform(-1, 1, shape).astype(dtype), name)


def model(name, nodes, inits, in_shape, out_shape):
    g = helper.make_graph(nodes, name, [helper.make_tensor_value_info('x', TensorProto.FLOAT, in_shape)],
                          [helper.make_tensor_value_info('y', TensorProto.FLOAT, out_shape)], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 13)], producer_name='xcept-seeds')
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(MODELS, name + '.onnx'))


def conv_bn_relu_pool_gemm():
    var = init('var', [4])
    var.CopyFrom(numpy_helper.from_array(rng.uniform(0.5, 1.5, [4]).astype(np.float32), 'var'))
    nodes = [
        helper.make_node('Conv', ['x', 'w', 'b'], ['c'], kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1]),
        helper.make_node('BatchNormalization', ['c', 'g', 'beta', 'mean', 'var'], ['n'], epsilon=1e-3),
        helper.make_node('Relu', ['n'], ['r']),
        helper.make_node('MaxPool', ['r'], ['p'], kernel_shape=[3, 3], strides=[2, 2], pads=[0, 0, 1, 1]),
        helper.make_node('Transpose', ['p'], ['t'], perm=[0, 2, 3, 1]),
        helper.make_node('Flatten', ['t'], ['f'], axis=1),
        helper.make_node('Gemm', ['f', 'fc', 'fcb'], ['y']),
    ]
    inits = [init('w', [4, 2, 3, 3]), init('b', [4]), init('g', [4]), init('beta', [4]), init('mean', [4]), var,
             init('fc', [36, 3]), init('fcb', [3])]
    model('conv_bn_relu_pool_gemm', nodes, inits, ['N', 2, 5, 5], ['N', 3])


def depthwise_pointwise_clip():
    nodes = [
        helper.make_node('Conv', ['x', 'dw'], ['d'], kernel_shape=[3, 3], pads=[0, 0, 1, 1], strides=[2, 2], group=2),
        helper.make_node('Clip', ['d', 'lo', 'hi'], ['c']),
        helper.make_node('Conv', ['c', 'pw', 'pwb'], ['p'], kernel_shape=[1, 1]),
        helper.make_node('Elu', ['p'], ['e'], alpha=0.5),
        helper.make_node('GlobalAveragePool', ['e'], ['g']),
        helper.make_node('Flatten', ['g'], ['y'], axis=1),
    ]
    inits = [init('dw', [4, 1, 3, 3]), numpy_helper.from_array(np.array(0, np.float32), 'lo'),
             numpy_helper.from_array(np.array(6, np.float32), 'hi'), init('pw', [3, 4, 1, 1]), init('pwb', [3])]
    model('depthwise_pointwise_clip', nodes, inits, ['N', 2, 6, 5], ['N', 3])


def shuffle_concat_add_avgpool():
    nodes = [
        helper.make_node('Reshape', ['x', 's1'], ['a']),
        helper.make_node('Transpose', ['a'], ['b'], perm=[0, 2, 1, 3, 4]),
        helper.make_node('Reshape', ['b', 's2'], ['c']),
        helper.make_node('Add', ['c', 'x'], ['d']),
        helper.make_node('AveragePool', ['d'], ['e'], kernel_shape=[3, 3], pads=[1, 1, 1, 1], count_include_pad=0),
        helper.make_node('Concat', ['e', 'd'], ['y'], axis=1),
    ]
    inits = [init('s1', [0, 2, 2, 3, 3], np.int64), init('s2', [0, 4, 3, 3], np.int64)]
    model('shuffle_concat_add_avgpool', nodes, inits, ['N', 4, 3, 3], ['N', 8, 3, 3])


def main():
    for d in (MODELS, TENSORS):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    conv_bn_relu_pool_gemm()
    depthwise_pointwise_clip()
    shuffle_concat_add_avgpool()
    for t in ['test_conv_with_strides_padding', 'test_maxpool_2d_same_upper', 'test_averagepool_2d_pads',
              'test_reshape_reordered_all_dims', 'test_gemm_default_no_bias', 'test_batchnorm_example',
              'test_clip', 'test_concat_2d_axis_0', 'test_transpose_all_permutations_0']:
        src = os.path.join(TESTDATA, t, 'model.onnx')
        if os.path.exists(src):
            shutil.copy(src, os.path.join(MODELS, t + '.onnx'))
    np.save(os.path.join(TENSORS, 'f32_2x3.npy'), rng.uniform(-1, 1, [2, 3]).astype(np.float32))
    np.save(os.path.join(TENSORS, 'i64_4.npy'), np.array([0, 2, -1, 3], np.int64))
    np.save(os.path.join(TENSORS, 'f32_scalar.npy'), np.array(1.5, np.float32))
    with open(os.path.join(TENSORS, 'f32_1x2x2x2.pb'), 'wb') as f:
        f.write(numpy_helper.from_array(rng.uniform(-1, 1, [1, 2, 2, 2]).astype(np.float32), 't').SerializeToString())
    with open(os.path.join(TENSORS, 'i64_3.pb'), 'wb') as f:
        f.write(numpy_helper.from_array(np.array([1, -1, 4], np.int64), 'shape').SerializeToString())
    t = helper.make_tensor('fd', TensorProto.FLOAT, [2, 2], [1.0, 2.0, 3.0, 4.0])  # float_data, not raw
    with open(os.path.join(TENSORS, 'f32_float_data.pb'), 'wb') as f:
        f.write(t.SerializeToString())


if __name__ == '__main__':
    main()
