"""Weights from PyTorch state dicts into our Flax variables.

Two sources:

* The authors' SPM-Tracker release (microsoft/SPM-Tracker, config
  ``alexnet_c42_otb``): ``cm_stage.pt`` (the ``CM_Stage`` module: backbone
  ``z_net.conv{1..5}.conv`` and the SiamRPN head ``rpn_head.*``) and
  ``fm_stage.pt`` (``FM_Stage_Head``: ``feat_extractor.bn_list.{i}``,
  ``siam_fusion.roi_conv.roi_conv0``, ``siam_fusion.linear_layers.linear{i}``,
  ``rcnn_cls``, ``rcnn_bbox``) -> :func:`convert_release`, a complete model.
* pysot's ``alexnet-bn.pth`` ImageNet backbone (``layer{1..5}.{0,1}.*`` of
  ``pysot.models.backbone.alexnet.AlexNet`` or ``features.{i}.*`` of its
  ``AlexNetLegacy``) -> :func:`convert_pysot_alexnet`, backbone convolutions
  for training. Its BatchNorm placement differs from ours; see
  :func:`pysot_mismatches`.

State dicts are plain ``{name: array}`` mappings; values may be NumPy arrays or
anything with ``.detach().cpu().numpy()`` (torch tensors), so this module does
not import torch (``scripts/convert_weights.py`` does, to read the files).

Layout changes (PyTorch -> Flax):

* conv weights ``[O, I / groups, kh, kw]`` -> kernels ``[kh, kw, I / groups, O]``
  (grouped convolutions keep their output-channel order: the first ``O / g``
  outputs read the first ``I / g`` inputs in both frameworks);
* linear weights ``[out, in]`` -> dense kernels ``[in, out]``;
* the FM stage's first linear layer reads a flattened ``[C, 6, 6]`` (NCHW) map in
  PyTorch but ``[6, 6, C]`` (NHWC) here: its input rows are permuted;
* BatchNorm ``weight, bias`` -> ``params`` ``scale, bias`` and ``running_mean,
  running_var`` -> ``batch_stats`` ``mean, var`` (epsilon 1e-5 in both);
* the CM box branch: the release reads its 4k refined outputs as ``(k, 4)``
  (anchor-major: ``delta.transpose(1, 2, 0).reshape(-1, 4)`` in
  ``SPMTrackerInference.generate_rpn_boxes``) while our ``CMHead`` reads them
  as ``(4, k)``: the output channels of ``bbox_refine`` are permuted. The class
  logits are ``(2, k)`` in both.
"""

import os
import re

import jax
import numpy as np

from spm_jax import cli
from spm_jax import export

# Keys of the release that hold no weights: the template kernels cached by the
# last CM_Stage_Head forward (recomputed from the template) and BN counters.
_RELEASE_IGNORED = (r'rpn_head\.z_cls_weights', r'rpn_head\.z_bbox_weights',
                    r'.*num_batches_tracked')
BN_EPS = 1e-5  # PyTorch BatchNorm2d default; flax.linen.BatchNorm's default too.


# ------------------------------------------------------------------ helpers ---
def to_numpy(value):
  """A NumPy array from a NumPy array or a torch tensor (no torch import)."""
  if hasattr(value, 'detach'):
    value = value.detach().cpu()
    if str(getattr(value, 'dtype', '')) == 'torch.bfloat16':
      value = value.float()
    value = value.numpy()
  return np.asarray(value)


def unwrap_state_dict(obj):
  """The ``{name: array}`` dict inside a loaded checkpoint.

  Accepts a bare state dict or one wrapped in ``{'state_dict': ...}`` /
  ``{'model': ...}``, and strips a ``module.`` prefix (DataParallel).
  """
  for key in ('state_dict', 'model', 'model_state_dict'):
    if isinstance(obj, dict) and key in obj and isinstance(obj[key], dict):
      obj = obj[key]
  if not isinstance(obj, dict):
    raise ValueError(f'expected a state dict (name -> tensor), got {type(obj).__name__}')
  out = {}
  for key, value in obj.items():
    out[key[len('module.'):] if key.startswith('module.') else key] = value
  return out


def load_state_dict(path):
  """``{name: np.ndarray}`` from a ``.pt`` / ``.pth`` (torch) or ``.npz`` file.

  Raises:
    FileNotFoundError, ValueError or ImportError (torch needed for ``.pt``)
    with a one-line message naming the file.
  """
  if not os.path.isfile(path):
    raise FileNotFoundError(f'weight file {path!r} not found')
  if path.endswith('.npz'):
    try:
      with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}
    except Exception as e:  # pylint: disable=broad-except
      # BadZipFile, a pickled object, a truncated array, ...
      raise ValueError(f'{path!r} is not a readable .npz of arrays '
                       f'({type(e).__name__}: {cli.one_line(e)})') from e
  try:
    import torch  # pylint: disable=import-outside-toplevel
  except ImportError:
    raise ImportError(f'reading {path!r} needs PyTorch, an optional dependency: '
                      'pip install torch --index-url https://download.pytorch.org/whl/cpu '
                      '(or save the state dict with numpy.savez and pass the .npz)') from None
  try:
    obj = torch.load(path, map_location='cpu', weights_only=True)
  except Exception as e:  # pylint: disable=broad-except
    raise ValueError(f'torch cannot read {path!r}: {cli.one_line(e)}') from e
  state = unwrap_state_dict(obj)
  return {k: to_numpy(v) for k, v in state.items() if hasattr(v, 'shape')}


def conv_kernel(weight):
  """PyTorch conv weight [O, I/g, kh, kw] -> Flax kernel [kh, kw, I/g, O]."""
  weight = to_numpy(weight)
  if weight.ndim != 4:
    raise ValueError(f'conv weight must be 4-D [O, I, kh, kw], got shape {weight.shape}')
  return np.transpose(weight, (2, 3, 1, 0))


def dense_kernel(weight):
  """PyTorch linear weight [out, in] -> Flax dense kernel [in, out]."""
  weight = to_numpy(weight)
  if weight.ndim != 2:
    raise ValueError(f'linear weight must be 2-D [out, in], got shape {weight.shape}')
  return weight.T


def nchw_flatten_to_nhwc(weight, channels, height, width):
  """First FC after a conv map: [out, C*H*W] (NCHW flatten) -> Flax [H*W*C, out].

  PyTorch's ``view(n, -1)`` of a ``[C, H, W]`` map has index
  ``c * H * W + h * W + w``; our ``reshape`` of ``[H, W, C]`` has
  ``(h * W + w) * C + c``.
  """
  weight = to_numpy(weight)
  out = weight.shape[0]
  if weight.shape[1] != channels * height * width:
    raise ValueError(f'linear weight {weight.shape} does not read a {channels}x{height}x{width} '
                     'map')
  return weight.reshape(out, channels, height, width).transpose(2, 3, 1, 0).reshape(-1, out)


def anchor_major_to_coord_major(num_anchors):
  """Permutation p with ``ours[i] = release[p[i]]`` for 4k box outputs.

  Release channel ``a * 4 + d`` (anchor a, coordinate d) -> ours ``d * k + a``.
  """
  return np.arange(4 * num_anchors).reshape(num_anchors, 4).T.reshape(-1)


def _expected_shapes(config):
  """{('params', ..., 'kernel'): shape} of the model ``config`` builds (no compute)."""
  from spm_jax import models
  tree = jax.eval_shape(lambda key: models.init_variables(config, key), jax.random.key(0))
  return {k: tuple(v.shape) for k, v in export.flatten(tree).items()}


class _Filler:
  """Collects converted arrays, checking each against the config's shape."""

  def __init__(self, config, state, ignored=()):
    self.expected = _expected_shapes(config)
    self.state = state
    self.used = set()
    self.ignored = [re.compile(p) for p in ignored]
    self.out = {}
    self.errors = []

  def get(self, key):
    if key not in self.state:
      self.errors.append(f'{key}: missing from the state dict')
      return None
    self.used.add(key)
    return to_numpy(self.state[key])

  def put(self, path, value, source):
    if value is None:
      return
    want = self.expected.get(path)
    name = '/'.join(path)
    if want is None:
      self.errors.append(f'{source} -> {name}: the model of this config has no such variable')
    elif tuple(value.shape) != want:
      self.errors.append(f'{source} {tuple(to_numpy(self.state[source]).shape)} -> {name}: '
                         f'converted {tuple(value.shape)}, config expects {want}')
    else:
      self.out[path] = np.asarray(value, np.float32)

  def conv(self, path, prefix, out_perm=None):
    w, b = self.get(prefix + '.weight'), self.get(prefix + '.bias')
    if w is not None:
      k = conv_kernel(w)
      self.put(path + ('kernel',), k if out_perm is None else k[..., out_perm], prefix + '.weight')
    if b is not None:
      self.put(path + ('bias',), b if out_perm is None else b[out_perm], prefix + '.bias')

  def dense(self, path, prefix, kernel_fn=dense_kernel):
    w, b = self.get(prefix + '.weight'), self.get(prefix + '.bias')
    if w is not None:
      try:
        self.put(path + ('kernel',), kernel_fn(w), prefix + '.weight')
      except ValueError as e:
        self.errors.append(f'{prefix}.weight: {e}')
    if b is not None:
      self.put(path + ('bias',), b, prefix + '.bias')

  def batchnorm(self, params_path, stats_path, prefix):
    for src, coll, path, leaf in (('weight', 'params', params_path, 'scale'),
                                  ('bias', 'params', params_path, 'bias'),
                                  ('running_mean', 'batch_stats', stats_path, 'mean'),
                                  ('running_var', 'batch_stats', stats_path, 'var')):
      value = self.get(f'{prefix}.{src}')
      self.put((coll,) + path + (leaf,), value, f'{prefix}.{src}')

  def unused(self):
    return sorted(k for k in self.state if k not in self.used
                  and not any(p.fullmatch(k) for p in self.ignored))

  def finish(self, what, check_complete=True):
    unused = self.unused()
    if unused:
      self.errors.append('keys the conversion does not know: ' + ', '.join(unused))
    if check_complete:
      missing = sorted('/'.join(p) for p in self.expected if p not in self.out)
      if missing and not self.errors:
        self.errors.append('variables left unfilled: ' + ', '.join(missing))
    if self.errors:
      raise ValueError(f'cannot convert {what}:\n  ' + '\n  '.join(self.errors))
    return export.unflatten(self.out)


# ------------------------------------------------------------------ release ---
def release_config(arg=None):
  """Our config of the release's ``alexnet_c42_otb`` model (``configs/spm_alexnet.py``)."""
  from spm_jax import config_file  # pylint: disable=import-outside-toplevel
  return config_file.get_config('spm_alexnet', arg)


def _check_release_config(config):
  m = config.model
  problems = []
  if m.backbone.norm != 'lrn':
    problems.append(f"model.backbone.norm is {m.backbone.norm!r}; the release uses 'lrn'")
  if tuple(m.backbone.groups) != (1, 2, 1, 2, 2):
    problems.append(f'model.backbone.groups is {tuple(m.backbone.groups)}; the release uses '
                    '(1, 2, 1, 2, 2)')
  if m.fm.num_fc < 1:
    problems.append('model.fm.num_fc must be >= 1')
  if problems:
    raise ValueError('config does not describe the release network: ' + '; '.join(problems))


def convert_release(cm_state, fm_state, config=None):
  """Converts the release's ``cm_stage.pt`` and ``fm_stage.pt`` state dicts.

  Args:
    cm_state: state dict of ``CM_Stage`` (``z_net.*``, ``rpn_head.*``).
    fm_state: state dict of ``FM_Stage_Head`` (``feat_extractor.*``,
      ``siam_fusion.*``, ``rcnn_cls.*``, ``rcnn_bbox.*``).
    config: our full config; default ``configs/spm_alexnet.py`` (the release's
      ``alexnet_c42_otb`` numbers). Its widths must match the files.

  Returns:
    (config, variables): Flax variables (``params``, ``batch_stats``) of float32
    NumPy arrays, complete for ``config``.

  Raises:
    ValueError listing every missing or unknown key and every shape that does
    not fit ``config`` (PyTorch shape, converted shape, expected shape).
  """
  config = release_config() if config is None else config
  _check_release_config(config)
  m = config.model
  state = dict(unwrap_state_dict(cm_state))
  fm_state = unwrap_state_dict(fm_state)
  clash = sorted(set(state) & set(fm_state))
  if clash:
    raise ValueError(f'cm and fm state dicts share keys {clash[:5]}: are both the same file?')
  state.update(fm_state)
  fill = _Filler(config, state, _RELEASE_IGNORED)

  # Backbone (CM_Stage.z_net, shared by both stages).
  for i in range(1, 6):
    fill.conv(('params', 'backbone', f'conv{i}'), f'z_net.conv{i}.conv')

  # CM head.
  num_anchors = len(m.anchors.ratios) * len(m.anchors.scales)
  cls_bias = fill.get('rpn_head.cls_bias')
  if cls_bias is not None and np.any(cls_bias != 0):
    fill.errors.append('rpn_head.cls_bias is not zero (max |b| = '
                       f'{np.abs(cls_bias).max():.3g}); our CMHead has no such bias')
  head = ('params', 'cm')
  fill.conv(head + ('z_cls_conv',), 'rpn_head.z_cls_conv')
  fill.conv(head + ('z_box_conv',), 'rpn_head.z_bbox_conv')
  fill.conv(head + ('x_cls_conv',), 'rpn_head.x_cls_conv.0')
  fill.conv(head + ('x_box_conv',), 'rpn_head.x_bbox_conv.0')
  fill.conv(head + ('box_refine',), 'rpn_head.bbox_refine',
            out_perm=anchor_major_to_coord_major(num_anchors))

  # FM stage (init_variables builds it for every variant, cm_only included).
  fm = ('fm',)
  if m.fm.feature_norm:
    for i, name in enumerate(m.fm.features):
      fill.batchnorm(fm + (f'norm_{name}',), fm + (f'norm_{name}',),
                     f'feat_extractor.bn_list.{i}')
  fill.conv(('params',) + fm + ('relation_conv',), 'siam_fusion.roi_conv.roi_conv0')
  size = m.fm.pool_size
  fc0 = lambda w: nchw_flatten_to_nhwc(w, m.fm.conv_channels, size, size)
  for i in range(m.fm.num_fc):
    fill.dense(('params',) + fm + (f'fc{i}',), f'siam_fusion.linear_layers.linear{i}',
               fc0 if i == 0 else dense_kernel)
  fill.dense(('params',) + fm + ('cls',), 'rcnn_cls')
  fill.dense(('params',) + fm + ('box',), 'rcnn_bbox')
  return config, fill.finish('the SPM-Tracker release weights')


# -------------------------------------------------------------------- pysot ---
# Indices into AlexNetLegacy.features of conv i and its BatchNorm.
_LEGACY_CONV = (0, 4, 8, 11, 14)
_LEGACY_BN = (1, 5, 9, 12, 15)


def pysot_mismatches(config):
  """How ``config``'s backbone differs from pysot's AlexNet (``alexnet-bn.pth``).

  pysot: conv1 11x11/2 -> BN -> maxpool 3/2 -> ReLU; conv2 5x5 -> BN ->
  maxpool -> ReLU; conv3, conv4 3x3 -> BN -> ReLU; conv5 3x3 -> BN (no ReLU);
  no padding, no groups, input BGR 0..255 without mean subtraction.

  Returns:
    list of differences that change the network's function (an exact import
    needs an empty list) and list of notes that do not block loading weights.
  """
  m = config.model
  blocking, notes = [], []
  if m.backbone.norm != 'batchnorm':
    blocking.append(f"backbone.norm is {m.backbone.norm!r}: pysot has a BatchNorm after every "
                    "conv (set config.model.backbone.norm = 'batchnorm')")
  else:
    # spm_jax.models.backbone.AlexNet with norm='batchnorm'.
    blocking.append('conv1, conv2: pysot applies conv -> BN -> maxpool -> ReLU, ours conv -> '
                    'ReLU -> maxpool -> BN (the BN replaces the LRN): BN and ReLU are swapped')
    blocking.append('conv5: pysot ends with conv -> BN (no ReLU), ours conv -> BN -> ReLU')
  if tuple(m.backbone.groups) != (1, 1, 1, 1, 1):
    blocking.append(f'backbone.groups is {tuple(m.backbone.groups)}: pysot convolutions are '
                    'ungrouped (set config.model.backbone.groups = (1, 1, 1, 1, 1))')
  notes.append('padding: pysot convolutions and pools have none, ours keep the padding (sec. '
               '4.1); the weights load, the maps are larger')
  if tuple(m.pixel_mean) != (0.0, 0.0, 0.0):
    notes.append(f'input: pysot feeds BGR 0..255 without mean subtraction, ours subtracts '
                 f'{tuple(m.pixel_mean)}')
  return blocking, notes


def _pysot_layout(state):
  """'layer' (pysot AlexNet), 'features' (AlexNetLegacy) or an error."""
  if any(k.startswith('layer1.') for k in state):
    return 'layer'
  if any(k.startswith('features.') for k in state):
    return 'features'
  raise ValueError('not a pysot AlexNet state dict: expected keys layer1.0.weight ... '
                   f'or features.0.weight ..., got {sorted(state)[:6]}')


def convert_pysot_alexnet(state, config, variables=None, conv_only=False):
  """Loads pysot's ``alexnet-bn.pth`` into our backbone.

  An exact import needs a backbone with pysot's BatchNorm placement, which
  ``spm_jax.models.backbone.AlexNet`` does not have (see
  :func:`pysot_mismatches`); this function then raises, naming the
  differences. With ``conv_only=True`` it copies the five convolutions'
  weights and biases only -- a pretrained initialisation for training, not
  pysot's network -- and leaves every other variable (our BatchNorms, the
  heads) as in ``variables``.

  Args:
    state: the state dict (``layer{1..5}.{0,1}.*`` or ``features.{i}.*``;
      ``module.`` / ``backbone.`` prefixes are stripped).
    config: our full config; needs ``backbone.groups = (1, 1, 1, 1, 1)`` and
      the full widths (pysot's convolutions are ungrouped).
    variables: variables to update (default: a random init of ``config``).
    conv_only: see above.

  Returns:
    new variables (nested dicts; the input is not modified).

  Raises:
    ValueError naming the mismatches, missing keys or wrong shapes.
  """
  state = {k[len('backbone.'):] if k.startswith('backbone.') else k: v
           for k, v in unwrap_state_dict(state).items()}
  layout = _pysot_layout(state)
  blocking, _ = pysot_mismatches(config)
  shape_blocking = [b for b in blocking if b.startswith('backbone.groups')]
  if not conv_only and blocking:
    raise ValueError('pysot\'s AlexNet does not match our backbone, so alexnet-bn.pth cannot be '
                     'imported exactly:\n  ' + '\n  '.join(blocking) +
                     '\nUse conv_only=True (--conv_only) to import the convolution weights as an '
                     'initialisation for training.')
  if shape_blocking:
    raise ValueError('cannot load alexnet-bn.pth convolutions:\n  ' + '\n  '.join(shape_blocking))

  ignored = [r'.*num_batches_tracked']
  if conv_only:  # BN weights deliberately left out.
    ignored.append(r'layer\d\.1\..*' if layout == 'layer' else
                   r'features\.(%s)\..*' % '|'.join(map(str, _LEGACY_BN)))
  fill = _Filler(config, state, ignored)
  for i in range(5):
    prefix = f'layer{i + 1}.0' if layout == 'layer' else f'features.{_LEGACY_CONV[i]}'
    fill.conv(('params', 'backbone', f'conv{i + 1}'), prefix)
  converted = fill.finish('alexnet-bn.pth', check_complete=False)

  if variables is None:
    from spm_jax import models
    variables = models.init_variables(config, jax.random.key(config.seed))
  variables = jax.tree.map(np.asarray, jax.device_get(dict(variables)))
  flat = export.flatten(variables)
  flat.update(export.flatten(converted))
  return export.unflatten(flat)
