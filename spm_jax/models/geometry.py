"""Where the CM stage's score map sits: the one source of the crop geometry.

Both backbones map a crop of ``S`` pixels to a stride-``s`` grid of
``ceil(S / s)`` cells, cell ``j`` centred on pixel ``s j`` (every stride-2
layer pads so that output ``i`` is centred on input ``2 i``). The CM stage reads
a central window of each map:

* AlexNet (``model.receptive_field`` set, the release): the padding-free cells,
  ``(S - receptive_field) // s + 1`` of them (6 for 127, 24 for 271);
* otherwise ``model.cm.template_cells`` on the template map and
  ``model.cm.search_cells`` (None: the whole map) on the search map, as
  pysot's SiamRPN++ crops the template map's centre.

The correlation slides the template window over the search window (the CM
head's 3x3 convs shrink both by 2, which cancels), so the score map has
``search_cells - template_cells + 1`` cells; score cell ``u`` puts template
cell ``z0`` onto search cell ``x0 + u`` (``z0``, ``x0``: the windows' first
cells), i.e. shifts the template by ``s (x0 - z0 + u)`` pixels, and the
target, at the template crop's centre ``Sz / 2``, lands on
``Sz / 2 + s (x0 - z0 + u)``: the anchor centres (continuous pixel
coordinates, pixel ``i`` covering ``[i, i + 1)``). 127 / 271 with AlexNet: 6
and 24 cells from cell 5, 19x19 scores, cell 0 at 63.5 (the release's), the
middle cell at the crop centre 135.5.
"""

from typing import NamedTuple

from spm_jax.ops import anchors as anchor_ops


class Geometry(NamedTuple):
  """Cell counts of one template / search size pair (see the module docstring)."""
  stride: int  # pixels per feature cell
  template_map: int  # template backbone map side
  search_map: int  # search backbone map side
  template_cells: int  # side of the template window the CM stage reads
  search_cells: int  # side of the search window the CM stage reads
  template_start: int  # first cell of the template window
  search_start: int  # first cell of the search window
  score_size: int  # side of the score map
  anchor_offset: float  # centre of score cell 0 in search-crop pixels


def map_size(crop_size, stride):
  """Side of a backbone map: ``crop_size`` halved (rounding up) log2(stride) times."""
  side = int(crop_size)
  s = int(stride)
  while s > 1:
    side, s = -(-side // 2), s // 2
  return side


def valid_size(crop_size, receptive_field=87, stride=8):
  """Side of the padding-free central feature region: (S - 87) / 8 + 1."""
  return (crop_size - receptive_field) // stride + 1


def _window(model_config, crop_size, side, cells_key):
  m = model_config
  rf = m.get('receptive_field')
  cells = (m.get('cm') or {}).get(cells_key)
  if cells is None:
    cells = valid_size(crop_size, rf, m.stride) if rf else side
  cells = int(cells)
  if not 0 < cells <= side:
    raise ValueError(f'CM window of {cells} cells does not fit the {side}-cell map of a '
                     f'{crop_size} px crop (model.cm.{cells_key}, receptive_field, crop size)')
  return cells


def crop_geometry(model_config, search_size=None, template_size=None):
  """The :class:`Geometry` of ``model_config`` (crop sizes default to the config's).

  Raises ValueError when the template window does not fit the search window, or
  when an explicit ``model.anchors.offset`` disagrees with the geometry.
  """
  m = model_config
  sx = int(search_size or m.search_size)
  sz = int(template_size or m.template_size)
  stride = int(m.stride)
  zmap, xmap = map_size(sz, stride), map_size(sx, stride)
  zc = _window(m, sz, zmap, 'template_cells')
  xc = _window(m, sx, xmap, 'search_cells')
  if xc < zc:
    raise ValueError(f'search window ({xc} cells for {sx} px) is smaller than the template window '
                     f'({zc} cells for {sz} px)')
  z0, x0 = (zmap - zc) // 2, (xmap - xc) // 2
  offset = sz / 2.0 + stride * (x0 - z0)
  given = (m.get('anchors') or {}).get('offset')
  if given is not None and abs(float(given) - offset) > 1e-6:
    raise ValueError(f'model.anchors.offset {given} disagrees with the crop geometry ({offset}: '
                     f'template {sz} px, search {sx} px, stride {stride}); remove it')
  return Geometry(stride, zmap, xmap, zc, xc, z0, x0, xc - zc + 1, offset)


def score_size(model_config, search_size=None):
  """Side of the CM score map for ``search_size`` (default ``model.search_size``)."""
  return crop_geometry(model_config, search_size).score_size


def anchor_offset(model_config, search_size=None):
  """Centre of score cell 0 in search-crop pixels (see the module docstring)."""
  return crop_geometry(model_config, search_size).anchor_offset


def model_anchors(model_config, search_size=None, plus_one=False):
  """[S, S, A, 4] cx, cy, w, h search-crop anchors of the CM score map (NumPy).

  Centres ``anchor_offset + stride * k``; shapes from ``model.anchors``
  (``spm_jax.ops.anchors.generate_anchors``); ``plus_one``: the release's
  "+1" boxes (sides one pixel shorter).
  """
  g = crop_geometry(model_config, search_size)
  a = model_config.anchors
  return anchor_ops.generate_anchors(g.score_size, tuple(a.ratios), tuple(a.scales), a.base_size,
                                     g.stride, g.anchor_offset, plus_one=plus_one)
