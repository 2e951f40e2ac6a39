"""MobileNetV2 backbone at output stride 8 (torchvision's ``features`` layout).

Layers as torchvision's ``mobilenet_v2().features`` (Sandler et al. 2018):
``block0`` a 3x3/2 conv (32 ch) + BatchNorm + ReLU6, then inverted residual
blocks ``block1``..``block17`` (1x1 expansion by t + BN + ReLU6, 3x3 depthwise
+ BN + ReLU6, 1x1 linear projection + BN, identity shortcut when the stride is
1 and the widths agree). BatchNorm epsilon 1e-5 as PyTorch, so ImageNet weights
load unchanged (``spm_jax.models.pretrained``).

Stride 8 as pysot's SiamRPN++ MobileNetV2: the blocks that stride to 16 and 32
in torchvision (``block7``, ``block14``) keep stride 1, and every later
depthwise conv is dilated instead (2 from ``block8``, 4 from ``block15``; the
block that gave up its stride keeps the previous dilation), so the maps of
``block4`` on share one stride-8 grid: cell ``j`` is centred on input pixel
``8 j`` (``block2``..``block3``: stride 4, ``4 j``). A 255 crop gives 32x32
maps, 127 gives 16x16. The network stops at ``last_block`` (its later
blocks cost time and are unused).
"""

from typing import Any, Optional

import flax.linen as nn
import jax
import jax.numpy as jnp

from spm_jax.ops.conv import cpu_friendly_conv

BN_EPS = 1e-5  # torch.nn.BatchNorm2d.
NUM_BLOCKS = 18  # block0..block17; torchvision's features[18] (1x1 to 1280 ch) is not used.

# (expansion t, output channels, torchvision stride) of block1..block17.
BLOCKS = ((1, 16, 1),
          (6, 24, 2), (6, 24, 1),
          (6, 32, 2), (6, 32, 1), (6, 32, 1),
          (6, 64, 2), (6, 64, 1), (6, 64, 1), (6, 64, 1),
          (6, 96, 1), (6, 96, 1), (6, 96, 1),
          (6, 160, 2), (6, 160, 1), (6, 160, 1),
          (6, 320, 1))
STEM_CHANNELS = 32


def block_layout(output_stride=8):
  """Per block ``(stride, dilation, total stride after it)``, block0..block17.

  Strides that would take the total past ``output_stride`` become 1 and the
  following depthwise convs dilate by the stride given up (pysot, DeepLab).
  """
  out = [(2, 1, 2)]
  total, dilation = 2, 1
  for _, _, s in BLOCKS:
    if s > 1 and total * s > output_stride:
      out.append((1, dilation, total))
      dilation *= s
    else:
      total *= s
      out.append((s, dilation, total))
  return tuple(out)


def block_channels(index):
  """Output channels of ``block{index}``."""
  return STEM_CHANNELS if index == 0 else BLOCKS[index - 1][1]


def tap_stride(index, output_stride=8):
  """Pixels per cell of ``block{index}``'s map."""
  return block_layout(output_stride)[index][2]


def depthwise_conv(x, kernel, stride=1, dilation=1):
  """Depthwise 3x3 (any odd side) conv as a sum of shifted products, torch padding.

  ``out[b, y, x, c] = sum_ij xp[b, s y + d i, s x + d j, c] * k[i, j, 0, c]``,
  ``xp`` zero-padded by ``d (kh // 2)`` on every side. XLA:CPU lowers a conv
  with one feature group per channel to a slow generic loop (``block0..6`` of
  a 255 crop: 86 ms); the nine shifted products fuse into one elementwise loop.

  Args:
    x: [B, H, W, C] inputs.
    kernel: [kh, kw, 1, C] (HWIO with one input channel per group).
    stride, dilation: of the conv.

  Returns:
    [B, ceil(H / stride), ceil(W / stride), C] for 3x3 kernels.
  """
  kh, kw = kernel.shape[:2]
  ph, pw = dilation * (kh // 2), dilation * (kw // 2)
  _, h, w, _ = x.shape
  oh = (h + 2 * ph - dilation * (kh - 1) - 1) // stride + 1
  ow = (w + 2 * pw - dilation * (kw - 1) - 1) // stride + 1
  xp = jnp.pad(x, ((0, 0), (ph, ph), (pw, pw), (0, 0)))
  out = None
  for i in range(kh):
    for j in range(kw):
      y0, x0 = dilation * i, dilation * j
      tap = xp[:, y0:y0 + stride * (oh - 1) + 1:stride, x0:x0 + stride * (ow - 1) + 1:stride]
      term = tap * kernel[i, j, 0]
      out = term if out is None else out + term
  return out


class DepthwiseConv(nn.Module):
  """Depthwise conv without bias (:func:`depthwise_conv`); parameters as ``nn.Conv``'s."""
  kernel_size: int = 3
  stride: int = 1
  dilation: int = 1
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x):
    k = self.param('kernel', nn.initializers.lecun_normal(),
                   (self.kernel_size, self.kernel_size, 1, x.shape[-1]), jnp.float32)
    return depthwise_conv(jnp.asarray(x, self.dtype), jnp.asarray(k, self.dtype), self.stride,
                          self.dilation)


class ConvBN(nn.Module):
  """Conv (no bias) + BatchNorm (+ ReLU6), NHWC.

  Attributes:
    features: output channels.
    kernel: square kernel side.
    stride, dilation: of the conv; padding ``dilation * (kernel // 2)`` (torch's).
    groups: feature groups (= input channels for a depthwise conv).
    relu6: apply ReLU6 after the BatchNorm.
    train_bn: BatchNorm uses batch statistics when called with ``train``.
  """
  features: int
  kernel: int = 1
  stride: int = 1
  dilation: int = 1
  groups: int = 1
  relu6: bool = True
  train_bn: bool = False
  bn_axis_name: Optional[str] = None
  dtype: Any = jnp.float32

  def _conv(self, x, kernel):
    """The conv with ``kernel`` (HWIO; [k, k, 1, C] depthwise)."""
    if self.groups > 1:
      return depthwise_conv(x, kernel, self.stride, self.dilation)
    if self.kernel == 1 and self.stride == 1:
      return jnp.einsum('bhwc,co->bhwo', x, kernel[0, 0])
    pad = self.dilation * (self.kernel // 2)
    dims = jax.lax.conv_dimension_numbers(x.shape, kernel.shape, ('NHWC', 'HWIO', 'NHWC'))
    # The stem (3 -> 32 channels, stride 2) as a space-to-depth conv where that is
    # faster (AVX-512: 1.0 -> 0.65 ms on a 223 crop).
    return cpu_friendly_conv(x, kernel, (self.stride,) * 2, ((pad, pad), (pad, pad)),
                             rhs_dilation=(self.dilation,) * 2, dimension_numbers=dims)

  def _folded(self, x):
    """Inference: BatchNorm folded into the conv, ``conv(x, k s) + (beta - mean s)``
    with ``s = gamma / sqrt(var + eps)`` (same numbers, one pass fewer)."""
    p, st = self.variables['params'], self.variables['batch_stats']['bn']
    scale = p['bn']['scale'] / jnp.sqrt(st['var'] + BN_EPS)
    kernel = jnp.asarray(p['conv']['kernel'] * scale, self.dtype)
    y = self._conv(jnp.asarray(x, self.dtype), kernel)
    return y + jnp.asarray(p['bn']['bias'] - st['mean'] * scale, self.dtype)

  @nn.compact
  def __call__(self, x, *, train=False):
    """[B, H, W, Cin] -> [B, H', W', features]."""
    if self.groups > 1 and not self.groups == x.shape[-1] == self.features:
      raise ValueError(f'ConvBN: only depthwise grouped convs (groups {self.groups}, '
                       f'{x.shape[-1]} -> {self.features} channels)')
    use_batch = train and self.train_bn
    if not use_batch and not self.is_initializing():
      x = self._folded(x)
      return jnp.clip(x, 0.0, 6.0) if self.relu6 else x
    pad = self.dilation * (self.kernel // 2)
    if self.groups > 1:
      x = DepthwiseConv(self.kernel, self.stride, self.dilation, dtype=self.dtype, name='conv')(x)
    else:
      x = nn.Conv(self.features, (self.kernel, self.kernel), strides=(self.stride, self.stride),
                  padding=((pad, pad), (pad, pad)), kernel_dilation=(self.dilation, self.dilation),
                  feature_group_count=self.groups, use_bias=False, dtype=self.dtype, name='conv')(x)
    x = nn.BatchNorm(use_running_average=not use_batch, momentum=0.9, epsilon=BN_EPS,
                     axis_name=self.bn_axis_name if use_batch else None, dtype=self.dtype,
                     name='bn')(x)
    return jnp.clip(x, 0.0, 6.0) if self.relu6 else x


class InvertedResidual(nn.Module):
  """MobileNetV2 block: expand 1x1, depthwise 3x3, project 1x1 (+ shortcut)."""
  features: int
  expansion: int
  stride: int = 1
  dilation: int = 1
  train_bn: bool = False
  bn_axis_name: Optional[str] = None
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, *, train=False):
    """[B, H, W, Cin] -> [B, H / stride, W / stride, features] (sides rounded up)."""
    conv = lambda **kw: ConvBN(train_bn=self.train_bn, bn_axis_name=self.bn_axis_name,
                               dtype=self.dtype, **kw)
    cin = x.shape[-1]
    hidden = cin * self.expansion
    y = x
    if self.expansion != 1:
      y = conv(features=hidden, name='expand')(y, train=train)
    y = conv(features=hidden, kernel=3, stride=self.stride, dilation=self.dilation, groups=hidden,
             name='depthwise')(y, train=train)
    y = conv(features=self.features, relu6=False, name='project')(y, train=train)
    if self.stride == 1 and cin == self.features:
      y = x + y
    return y


class MobileNetV2(nn.Module):
  """MobileNetV2 ``features`` up to ``last_block``, at output stride 8.

  Attributes:
    last_block: index of the last block run (0..17).
    output_stride: total stride of the last maps (8; 16 or 32 for torchvision's).
    train_bn: BatchNorm uses batch statistics in training; False keeps the
      running statistics (a frozen or pretrained backbone).
    bn_axis_name: pmap axis over which batch statistics are averaged.
    dtype: computation dtype.
  """
  last_block: int = 10
  output_stride: int = 8
  train_bn: bool = False
  bn_axis_name: Optional[str] = None
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, *, train=False):
    """Runs the backbone.

    Args:
      x: [B, S, S, 3] normalised RGB crops.
      train: BatchNorm uses batch statistics (only with ``train_bn``).

    Returns:
      dict ``block0``..``block{last_block}`` of [B, h, w, c] maps (stride
      :func:`tap_stride`; ``h = ceil(S / stride)``).
    """
    if not 0 <= self.last_block < NUM_BLOCKS:
      raise ValueError(f'backbone.last_block must be in 0..{NUM_BLOCKS - 1}, got {self.last_block}')
    kw = dict(train_bn=self.train_bn, bn_axis_name=self.bn_axis_name, dtype=self.dtype)
    layout = block_layout(self.output_stride)
    out = {}
    x = ConvBN(STEM_CHANNELS, kernel=3, stride=2, name='block0', **kw)(x, train=train)
    out['block0'] = x
    for i in range(1, self.last_block + 1):
      t, c, _ = BLOCKS[i - 1]
      stride, dilation, _ = layout[i]
      x = InvertedResidual(c, t, stride=stride, dilation=dilation, name=f'block{i}', **kw)(
          x, train=train)
      out[f'block{i}'] = x
    return out
