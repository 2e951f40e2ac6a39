"""Convolutions rewritten where XLA:CPU is slow: the same sums in another order.

:func:`cpu_friendly_conv` is a drop-in for ``lax.conv_general_dilated`` (Flax's
``nn.Conv(conv_general_dilated=...)``), used by the backbones
(:mod:`spm_jax.models.backbone`, :mod:`spm_jax.models.mobilenet`): grouped
convs as separate dense ones, and a stride-2 conv on an image as a stride-1
conv on 2x2 space-to-depth blocks where that is faster. Inputs NHWC, kernels
HWIO.
"""

import functools

import jax
import jax.numpy as jnp


_NHWC_HWIO = ((0, 3, 1, 2), (3, 2, 0, 1), (0, 3, 1, 2))  # lax.ConvDimensionNumbers


# Below this many output channels a stride-2 conv on a 3-channel image runs
# faster as a space-to-depth conv on XLA:CPU where the CPU shows AVX-512
# (measured on a 2-core EPYC VM with AVX-512, 11x11 conv1 on a 271 crop: 24
# channels 49 -> 8 ms, 32: 18 -> 8 ms; 48 and more are faster direct: 96
# channels 13 ms direct, 27 ms space-to-depth). On the same EPYC model in a VM
# that shows only AVX2 the direct conv is the fast one: 24 channels 6.5 ms
# direct, 18.7 ms space-to-depth (271 crop, batch 1), 36 vs 184 ms for a
# training batch of 8 crops of 207 (docs/benchmarks.md).
_SPACE_TO_DEPTH_MAX_CHANNELS = 40


@functools.lru_cache(maxsize=None)
def space_to_depth_is_faster():
  """Whether conv1 should run as :func:`space_to_depth_conv` here: XLA:CPU on a
  CPU with AVX-512 (``/proc/cpuinfo`` flag ``avx512f``; False where unreadable)."""
  if jax.default_backend() != 'cpu':
    return False
  try:
    with open('/proc/cpuinfo') as f:
      return any(line.startswith('flags') and ' avx512f' in line for line in f)
  except OSError:
    return False


def space_to_depth_conv(lhs, rhs, padding):
  """Stride-2 conv as a stride-1 conv on 2x2 space-to-depth blocks.

  Output pixel ``o`` of a stride-2 conv reads input rows ``2 o + i``; with
  ``i = 2 a + d`` that is block row ``o + a``, phase ``d``. The kernel is
  zero-padded to an even side ``2 k2`` and regrouped to
  ``[k2, k2, 4 Cin, Cout]``, the padded input to ``[H / 2, W / 2, 4 Cin]``.
  Same sums as the strided conv, in another order.

  Args:
    lhs: [B, H, W, Cin] inputs.
    rhs: [kh, kw, Cin, Cout] kernel (HWIO).
    padding: ((top, bottom), (left, right)) explicit padding.

  Returns:
    [B, H', W', Cout], H' = (H + top + bottom - kh) // 2 + 1 (same for W).
  """
  b, h, w, c = lhs.shape
  kh, kw, _, cout = rhs.shape
  (top, bottom), (left, right) = padding
  oh, ow = (h + top + bottom - kh) // 2 + 1, (w + left + right - kw) // 2 + 1
  ah, aw = (kh + 1) // 2, (kw + 1) // 2  # kernel side in blocks
  lh, lw = oh + ah - 1, ow + aw - 1  # input side in blocks
  # Pad (or cut) the input to exactly 2 lh x 2 lw pixels.
  x = jnp.pad(lhs, ((0, 0), (top, max(0, 2 * lh - h - top)), (left, max(0, 2 * lw - w - left)),
                    (0, 0)))[:, :2 * lh, :2 * lw]
  x = x.reshape(b, lh, 2, lw, 2, c).transpose(0, 1, 3, 2, 4, 5).reshape(b, lh, lw, 4 * c)
  k = jnp.pad(rhs, ((0, 2 * ah - kh), (0, 2 * aw - kw), (0, 0), (0, 0)))
  k = k.reshape(ah, 2, aw, 2, c, cout).transpose(0, 2, 1, 3, 4, 5).reshape(ah, aw, 4 * c, cout)
  return jax.lax.conv_general_dilated(x, k, (1, 1), 'VALID',
                                      dimension_numbers=('NHWC', 'HWIO', 'NHWC'))


def cpu_friendly_conv(lhs, rhs, window_strides, padding, *, feature_group_count=1, **kwargs):
  """``lax.conv_general_dilated`` rewritten where XLA:CPU is slow; same sums.

  * Feature groups run as separate dense convs, concatenated along channels:
    XLA:CPU lowers a grouped conv to a slow generic loop (conv2 of the paper's
    AlexNet took 60 ms instead of 14 ms on a 2-core EPYC). The kernel keeps
    the grouped layout ``[kh, kw, Cin / groups, Cout]``: parameters unchanged.
  * A stride-2 conv on a <= 4-channel image with few output channels (the
    ``runlocal`` conv1) runs through :func:`space_to_depth_conv` where that is
    faster (:func:`space_to_depth_is_faster`).

  Drop-in for ``nn.Conv(conv_general_dilated=...)`` (NHWC inputs, HWIO
  kernels); anything else goes to ``lax.conv_general_dilated`` unchanged.

  Args:
    lhs: [B, H, W, Cin] inputs.
    rhs: [kh, kw, Cin / groups, Cout] kernel.

  Returns:
    [B, H', W', Cout].
  """
  g = feature_group_count
  conv = functools.partial(jax.lax.conv_general_dilated, window_strides=window_strides,
                           padding=padding, **kwargs)
  # Channels last on both sides: Flax's NHWC / HWIO dimension numbers.
  plain = (tuple(kwargs.get('dimension_numbers') or ()) == _NHWC_HWIO
           and all(tuple(kwargs.get(k) or (1, 1)) == (1, 1) for k in ('lhs_dilation', 'rhs_dilation')))
  if not plain:
    return conv(lhs, rhs, feature_group_count=g)
  if g > 1:
    xs = jnp.split(lhs, g, axis=-1)
    ws = jnp.split(rhs, g, axis=-1)
    return jnp.concatenate([conv(x, w) for x, w in zip(xs, ws)], axis=-1)
  if (tuple(window_strides) == (2, 2) and not isinstance(padding, str) and lhs.shape[-1] <= 4
      and rhs.shape[-1] < _SPACE_TO_DEPTH_MAX_CHANNELS and space_to_depth_is_faster()):
    return space_to_depth_conv(lhs, rhs, tuple(tuple(p) for p in padding))
  return conv(lhs, rhs)
