"""The tracking benchmarks by name: ``DATASETS``, ``load_dataset`` and every loader.

Each benchmark is one module of :mod:`spm_jax.evaluation.benchmarks` (``otb``,
``vot``, ``lasot``, ``got10k``, ``trackingnet``, ``uav``) returning the
``Dataset`` / ``Sequence`` of ``benchmarks.base``; this module gathers them.
A ``Dataset`` knows its sequence names when built (from the benchmark's list
or table) and reads a sequence's annotation and frame list only when that
sequence is accessed; frames are decoded one at a time by ``Sequence.frame``.

Boxes are ``[N, 4]`` float64 rows of ``x, y, w, h`` in pixels, ``x, y`` the
top-left corner, row ``i`` for frame ``i``; a NaN row marks a frame without
annotation (absent target, or the hidden test annotations of GOT-10k and
TrackingNet). Coordinates are kept as the benchmark stores them -- OTB's, LaSOT's
and UAV123's files count pixels from 1 (MATLAB) -- so result files stay
comparable with published ones. A sequence's ``pixel_origin`` says which number
its files give the image's first pixel (1 for those benchmarks, 0 for GOT-10k,
TrackingNet and VOT), and ``ope.track_sequence`` hands trackers boxes in image
pixels (``x - pixel_origin``), the frame that a tracker trained on 0-based
boxes predicts in, and shifts their boxes back into the file's numbers. (The
got10k toolkit and pysot pass OTB's numbers to the tracker as they are, which
puts its boxes one pixel up and left of the ground truth.)

The folder layouts are ``LAYOUTS`` (and each module's docstring).
"""

# pylint: disable=unused-import
from spm_jax.evaluation.benchmarks import got10k as got10k_lib
from spm_jax.evaluation.benchmarks import lasot as lasot_lib
from spm_jax.evaluation.benchmarks import otb as otb_lib
from spm_jax.evaluation.benchmarks import trackingnet as trackingnet_lib
from spm_jax.evaluation.benchmarks import uav as uav_lib
from spm_jax.evaluation.benchmarks import vot as vot_lib
from spm_jax.evaluation.benchmarks.base import (
    Dataset, DatasetNotFoundError, IMAGE_EXTENSIONS, Sequence, list_images, load_image)
from spm_jax.evaluation.benchmarks.got10k import got10k
from spm_jax.evaluation.benchmarks.lasot import lasot
from spm_jax.evaluation.benchmarks.otb import otb, otb_folder
from spm_jax.evaluation.benchmarks.trackingnet import trackingnet
from spm_jax.evaluation.benchmarks.uav import uav123
from spm_jax.evaluation.benchmarks.vot import box_to_polygon, polygon_to_box, vot
# pylint: enable=unused-import

VOT_YEARS = vot_lib.YEARS
LAYOUTS = {m.LAYOUT.kind: m.LAYOUT.text
           for m in (otb_lib, vot_lib, lasot_lib, got10k_lib, trackingnet_lib, uav_lib)}

DATASETS = ('otb2013', 'otb50', 'otb100', 'otb_folder', 'vot2016', 'vot2017',
            'vot2018', 'lasot', 'got10k_val', 'got10k_test', 'trackingnet',
            'uav123', 'uav20l')


def load_dataset(name, root):
  """Builds a Dataset by benchmark id (one of ``DATASETS``) and folder.

  Returns:
    ``Dataset`` whose sequences' ``gt`` are [N, 4] x, y, w, h in the
    benchmark's own pixel numbers (``Sequence.pixel_origin``).
  """
  name = name.lower()
  if name in ('otb2013', 'otb50', 'otb100', 'otb2015'):
    return otb(root, name)
  if name in ('otb_folder', 'otb', 'custom'):
    return otb_folder(root)
  if name.startswith('vot') and name[3:].isdigit():
    year = int(name[3:])
    if year not in VOT_YEARS:
      raise ValueError(f'VOT year must be one of {VOT_YEARS}, got {year}')
    return vot(root, year)
  if name == 'lasot':
    return lasot(root)
  if name in ('got10k_val', 'got10k_test'):
    return got10k(root, name.split('_')[1])
  if name == 'trackingnet':
    return trackingnet(root)
  if name in ('uav123', 'uav20l'):
    return uav123(root, 'UAV123' if name == 'uav123' else 'UAV20L')
  raise ValueError(f'unknown dataset {name!r}; expected one of {DATASETS}')
