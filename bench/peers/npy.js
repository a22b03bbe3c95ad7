// Minimal NumPy .npy reading and writing for float32 arrays (little-endian, C order),
// shared by the peer scripts.
'use strict';

const fs = require('fs');

function readNpy(path) {
  const buf = fs.readFileSync(path);
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY') {
    throw new Error(`${path}: not a .npy file`);
  }
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + headerLen);
  const descr = /'descr':\s*'([^']*)'/.exec(header);
  const fortran = /'fortran_order':\s*(True|False)/.exec(header);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shape) throw new Error(`${path}: bad .npy header ${header}`);
  if (descr[1] !== '<f4') throw new Error(`${path}: dtype ${descr[1]}, need <f4 (float32)`);
  if (fortran[1] === 'True') throw new Error(`${path}: Fortran order is not supported`);
  const dims = shape[1].split(',').map((s) => s.trim()).filter((s) => s.length).map(Number);
  const count = dims.reduce((a, b) => a * b, 1);
  const dataStart = start + headerLen;
  if (buf.length - dataStart !== count * 4) {
    throw new Error(`${path}: shape (${dims}) needs ${count * 4} bytes, file has ${buf.length - dataStart}`);
  }
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = buf.readFloatLE(dataStart + 4 * i);
  return { dims, data };
}

function npyBytes(dims, data) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims.join(', ')}${dims.length === 1 ? ',' : ''}), }`;
  // Pad so that the data starts at a multiple of 64 bytes; the header ends with '\n'.
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), body]);
}

// .npy by extension, anything else raw little-endian float32 with the given dims.
function readTensor(path, dims) {
  if (path.endsWith('.npy')) return readNpy(path);
  if (!dims) throw new Error(`${path}: a raw float32 file needs --shape`);
  const buf = fs.readFileSync(path);
  const count = dims.reduce((a, b) => a * b, 1);
  if (buf.length !== count * 4) {
    throw new Error(`${path}: shape (${dims}) needs ${count * 4} bytes, file has ${buf.length}`);
  }
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = buf.readFloatLE(4 * i);
  return { dims, data };
}

function writeTensor(path, dims, data) {
  const f32 = data instanceof Float32Array ? data : Float32Array.from(data);
  const bytes = path.endsWith('.npy')
    ? npyBytes(dims, f32)
    : Buffer.from(f32.buffer, f32.byteOffset, f32.byteLength);
  const tmp = `${path}.tmp.${process.pid}`;
  fs.writeFileSync(tmp, bytes);
  fs.renameSync(tmp, path);
}

module.exports = { readNpy, npyBytes, readTensor, writeTensor };
