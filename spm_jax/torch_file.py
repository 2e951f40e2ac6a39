"""Reads PyTorch ``torch.save`` files of tensors into NumPy, without torch.

Two layouts exist:

* the zip archive of torch >= 1.6: ``<root>/data.pkl`` (the pickled object,
  tensors as persistent ids naming a storage) and ``<root>/data/<key>`` (each
  storage's raw little-endian bytes);
* the legacy stream of older torch: four pickles in a row (magic number,
  protocol version, system info, the object), then the pickled list of storage
  keys, then each storage as an int64 element count followed by its bytes.

Both pickles are read by a restricted ``pickle.Unpickler``: only plain
containers (``collections.OrderedDict``), storage types and
``torch._utils._rebuild_tensor_v2`` are accepted, so a file cannot run code.
Tensors come back as NumPy arrays with their shape and strides applied.
"""

import collections
import io
import pickle
import zipfile

import numpy as np

_LEGACY_MAGIC = 0x1950a86a20f9469cfc6c
_STORAGE_DTYPES = {
    'FloatStorage': np.float32, 'DoubleStorage': np.float64, 'HalfStorage': np.float16,
    'LongStorage': np.int64, 'IntStorage': np.int32, 'ShortStorage': np.int16,
    'CharStorage': np.int8, 'ByteStorage': np.uint8, 'BoolStorage': np.bool_,
}


class _StorageType:
  """Stand-in for ``torch.FloatStorage`` etc.: only its element dtype."""

  def __init__(self, name):
    self.name = name
    self.dtype = np.dtype(_STORAGE_DTYPES[name])


def _rebuild_tensor_v2(storage, offset, size, stride, requires_grad=False, hooks=None,
                       metadata=None):
  """``torch._utils._rebuild_tensor_v2`` -> a NumPy view of ``storage`` [numel]."""
  del requires_grad, hooks, metadata
  size, stride = tuple(size), tuple(stride)
  if not size:
    return storage[offset].copy()
  item = storage.dtype.itemsize
  if any(n == 0 for n in size):
    return np.zeros(size, storage.dtype)
  last = offset + sum((n - 1) * s for n, s in zip(size, stride))
  if offset < 0 or last >= storage.size:
    raise ValueError(f'tensor of size {size}, stride {stride} at offset {offset} runs past its '
                     f'storage of {storage.size} elements')
  view = np.lib.stride_tricks.as_strided(storage[offset:], size, [s * item for s in stride])
  return np.array(view)


class _Unpickler(pickle.Unpickler):
  """Accepts only what a state dict of tensors needs; storages come from
  ``load_storage(key, dtype, numel)``."""

  def __init__(self, file, load_storage):
    super().__init__(file)
    self._load_storage = load_storage
    self._storages = {}

  def find_class(self, module, name):
    if module == 'collections' and name == 'OrderedDict':
      return collections.OrderedDict
    if module == 'torch._utils' and name == '_rebuild_tensor_v2':
      return _rebuild_tensor_v2
    if module == 'torch' and name in _STORAGE_DTYPES:
      return _StorageType(name)
    raise pickle.UnpicklingError(f'torch file holds {module}.{name}, not a tensor or a plain '
                                 'container; only state dicts of tensors are read')

  def persistent_load(self, pid):
    if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == 'storage'
            and isinstance(pid[1], _StorageType)):
      raise pickle.UnpicklingError(f'unsupported persistent id {pid!r:.80}')
    kind, key, numel = pid[1], str(pid[2]), int(pid[4])
    if len(pid) > 5 and pid[5] is not None:
      raise pickle.UnpicklingError(f'storage {key} is a view of another storage (not supported)')
    if key not in self._storages:
      self._storages[key] = self._load_storage(key, kind.dtype, numel)
    return self._storages[key]


def _from_bytes(raw, dtype, numel, key):
  if len(raw) < numel * dtype.itemsize:
    raise ValueError(f'storage {key}: {len(raw)} bytes for {numel} elements of {dtype}')
  return np.frombuffer(raw, dtype.newbyteorder('<'), numel)


def _load_zip(f):
  with zipfile.ZipFile(f) as z:
    names = z.namelist()
    pkls = [n for n in names if n.endswith('/data.pkl') or n == 'data.pkl']
    if not pkls:
      raise ValueError('zip archive without data.pkl: not a torch.save file')
    root = pkls[0][:-len('data.pkl')]

    def storage(key, dtype, numel):
      name = f'{root}data/{key}'
      if name not in names:
        raise ValueError(f'torch file lacks storage {name}')
      return _from_bytes(z.read(name), dtype, numel, key)

    return _Unpickler(io.BytesIO(z.read(pkls[0])), storage).load()


def _load_legacy(data):
  f = io.BytesIO(data)
  if _Unpickler(f, None).load() != _LEGACY_MAGIC:
    raise ValueError('not a torch.save file (neither a zip archive nor the legacy magic number)')
  _Unpickler(f, None).load()  # protocol version
  _Unpickler(f, None).load()  # system info: {'little_endian': True, 'type_sizes': ...}
  start = f.tell()
  # The storages follow the object: a first pass learns their dtypes and sizes,
  # a second one builds the tensors from their bytes.
  wanted = {}

  def note(key, dtype, numel):
    wanted[key] = (dtype, numel)
    return np.zeros(numel, dtype)

  _Unpickler(f, note).load()
  keys = [str(k) for k in _Unpickler(f, None).load()]
  view, pos, storages = memoryview(data), f.tell(), {}
  for key in keys:
    if key not in wanted:
      raise ValueError(f'legacy torch file: storage {key} is not used by any tensor')
    dtype, _ = wanted[key]
    if pos + 8 > len(data):
      raise ValueError(f'legacy torch file ends before storage {key}')
    numel = int(np.frombuffer(view[pos:pos + 8], '<i8')[0])
    pos += 8
    storages[key] = _from_bytes(view[pos:pos + numel * dtype.itemsize], dtype, numel, key)
    pos += numel * dtype.itemsize
  missing = sorted(set(wanted) - set(storages))
  if missing:
    raise ValueError(f'legacy torch file lacks storages {missing[:5]}')
  f.seek(start)
  return _Unpickler(f, lambda key, dtype, numel: storages[key]).load()


def load(path):
  """The object saved by ``torch.save`` at ``path``, tensors as NumPy arrays.

  Args:
    path: a ``.pt`` / ``.pth`` file (zip archive or legacy stream) or a
      ``pathlib`` / ``importlib.resources`` path to one.

  Returns:
    the saved object; typically an ``OrderedDict`` name -> np.ndarray (a state dict).
  """
  with open(path, 'rb') as fh:
    data = fh.read()
  if zipfile.is_zipfile(io.BytesIO(data)):
    return _load_zip(io.BytesIO(data))
  return _load_legacy(data)
