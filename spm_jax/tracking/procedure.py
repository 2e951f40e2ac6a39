"""Which per-frame tracking procedure a config asks for: the release's or ours.

``config.tracking.procedure`` names a whole procedure: ``'release'`` is the
authors' inference release frame for frame (microsoft/SPM-Tracker,
``siam_tracker/spm_tracker/inference.py``), ``'project'`` this project's own
choices. Each point where the two differ is also an option of its own under
``config.tracking``; an option that is missing or None follows ``procedure``,
and a config with neither (every config exported before they existed) gets
the project's procedure, so stored models track as they always did.

========================  ===========  ===========  ===================================
option                    release      project      what it decides
========================  ===========  ===========  ===================================
``template_crop``         'search'     'template'   first-frame crop: search size, CM
                                                    kernels from its centre; or the
                                                    template size
``crop_sampling``         'release'    'opencv'     float, corner-aligned bilinear;
                                                    or cv2.warpAffine, pixel centres
``window_span``           'crop'       'anchors'    cosine window over the whole crop;
                                                    or over the anchor centres
``window_at``             'cm'         'fused'      window read at the CM boxes; or
                                                    at the fused boxes
``proposals``             'release'    'project'    near candidate and NMS rules
``state_clamp``           'release'    'project'    centre in [0, W - w / 2], no size
                                                    cap, unclipped box; or centre in
                                                    [0, W], size <= frame, box clipped
========================  ===========  ===========  ===================================

The "+1" box convention is a property of the weights, not of the procedure:
``config.model.box_plus_one`` (default False). docs/release_procedure.md
describes every option and which config uses which.
"""

from typing import NamedTuple

PROCEDURES = ('release', 'project')

# option -> (release value, project value)
OPTIONS = {
    'template_crop': ('search', 'template'),
    'crop_sampling': ('release', 'opencv'),
    'window_span': ('crop', 'anchors'),
    'window_at': ('cm', 'fused'),
    'proposals': ('release', 'project'),
    'state_clamp': ('release', 'project'),
}


class Procedure(NamedTuple):
  """The resolved options (see the module docstring)."""
  template_crop: str
  crop_sampling: str
  window_span: str
  window_at: str
  proposals: str
  state_clamp: str


def resolve(tracking):
  """The :class:`Procedure` of a ``tracking`` ConfigDict (or dict).

  Raises:
    ValueError: an unknown procedure or option value, naming the allowed ones.
  """
  get = tracking.get
  procedure = get('procedure', None) or 'project'
  if procedure not in PROCEDURES:
    raise ValueError(f'tracking.procedure must be one of {PROCEDURES}, got {procedure!r}')
  values = {}
  for name, choices in OPTIONS.items():
    value = get(name, None)
    if value is None:
      value = choices[PROCEDURES.index(procedure)]
    elif value not in choices:
      raise ValueError(f'tracking.{name} must be one of {choices}, got {value!r}')
    values[name] = value
  return Procedure(**values)


def box_plus_one(model):
  """Whether the ``model`` ConfigDict uses the release's "+1" box convention."""
  return bool(model.get('box_plus_one', False))
