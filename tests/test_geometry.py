"""One crop geometry for the model, anchors, labels and the steps, whatever the
template size and the backbone: hand-computed cases and a matching probe on
real backbone features."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spm_jax import config_file
from spm_jax import models
from spm_jax.data import labels as label_lib
from spm_jax.data import pipeline
from spm_jax.train import train_step as step_lib

spm_alexnet = config_file.load_module('spm_alexnet')
spm_mobilenet = config_file.load_module('spm_mobilenet')


def _config(backbone, template, search):
  if backbone == 'alexnet':
    config = spm_alexnet.get_config('runlocal')
  else:
    config = spm_mobilenet.get_config('runlocal,last_block=4,early_tap=2')
  config.model.template_size, config.model.search_size = template, search
  if template != 127:
    config.model.anchors.offset = None  # the release's 63.5 is for 127 templates
  return config


def test_hand_computed_cases():
  # AlexNet 127 / 271 (release): 16 and 34 cells, padding-free 6 and 24 from
  # cell 5, 19x19 scores, cell 0 at 63.5.
  g = models.crop_geometry(spm_alexnet.get_config().model)
  assert g == (8, 16, 34, 6, 24, 5, 5, 19, 63.5)
  # AlexNet, 207 training crops: 26 cells, 16 valid from 5 -> 11x11.
  assert models.score_size(spm_alexnet.get_config().model, 207) == 11
  # MobileNetV2 127 / 207: 16 and 26 cells, template cells 4..11, whole search
  # map: 19x19, cell 0 at 63.5 + 8 (0 - 4) = 31.5, middle cell at 103.5 = 207 / 2.
  g = models.crop_geometry(spm_mobilenet.get_config().model)
  assert g == (8, 16, 26, 8, 26, 4, 0, 19, 31.5)
  # 255 (pysot's crop): 32 cells, 25x25.
  assert models.crop_geometry(spm_mobilenet.get_config().model, 255)[-2:] == (25, 31.5)
  # An offset written in the config must agree.
  config = spm_alexnet.get_config()
  config.model.template_size = 111
  with pytest.raises(ValueError, match='anchors.offset 63.5 disagrees'):
    models.score_size(config.model)


CASES = [('alexnet', 127, 271), ('alexnet', 111, 255), ('alexnet', 143, 271),
         ('mobilenet', 127, 255), ('mobilenet', 143, 271), ('mobilenet', 111, 223)]


@pytest.mark.parametrize('backbone,template,search', CASES)
def test_score_map_anchors_and_labels_agree(backbone, template, search):
  config = _config(backbone, template, search)
  m = config.model
  g = models.crop_geometry(m)
  s = g.score_size
  model = models.build_model(config)
  variables = jax.eval_shape(lambda: models.init_variables(config, jax.random.key(0)))
  z = jax.ShapeDtypeStruct((1, template, template, 3), jnp.float32)
  x = jax.ShapeDtypeStruct((1, search, search, 3), jnp.float32)
  z_box = jax.ShapeDtypeStruct((1, 4), jnp.float32)
  props = jax.ShapeDtypeStruct((1, 9, 4), jnp.float32)
  out = jax.eval_shape(lambda v, *a: model.apply(v, *a), variables, z, z_box, x, props)
  assert out['cm_logits'].shape == (1, s, s, 5, 2)
  anchors = pipeline.model_anchors(m)
  assert anchors.shape == (s, s, 5, 4) and pipeline.score_size(m) == s
  np.testing.assert_array_equal(step_lib.model_anchors(m), anchors.reshape(-1, 4))
  # These geometries are symmetric: the middle cell sits on the crop centre,
  # and a target there labels the middle cell's square anchor best.
  assert s % 2 == 1
  np.testing.assert_allclose(anchors[s // 2, s // 2, 2, :2], search / 2.0)
  c = search / 2.0
  box = np.array([[c - 32, c - 32, c + 32, c + 32]], np.float32)
  cls, reg, weight = label_lib.cm_labels(anchors, box)
  assert cls.shape == (s, s, 5) and cls[s // 2, s // 2, 2] == 1
  np.testing.assert_allclose(reg[s // 2, s // 2, 2], 0.0, atol=1e-6)


@pytest.mark.parametrize('backbone,template,search', CASES[:2] + CASES[3:5])
def test_offset_is_where_the_template_matches(backbone, template, search):
  """Cut the template out of the search crop at a known place: the cosine match
  of the CM windows' backbone features peaks on the score cell whose anchors
  sit on the template's centre (NumPy, no CM head)."""
  config = _config(backbone, template, search)
  m = config.model
  g = models.crop_geometry(m)
  model = models.build_model(config)
  variables = models.init_variables(config, jax.random.key(0))
  rng = np.random.default_rng(0)
  # Smooth random texture (blobs), so features vary across cells.
  small = rng.uniform(0, 255, (search // 8 + 2, search // 8 + 2, 3))
  image = np.kron(small, np.ones((8, 8, 1)))[:search, :search].astype(np.float32)
  embed = jax.jit(lambda v, x: model.apply(v, x, method=model.embed)[m.cm.feature][0])
  fx = np.asarray(embed(variables, jnp.asarray(image[None])), np.float64)
  x0, x1 = g.search_start, g.search_start + g.search_cells
  fx = fx[x0:x1, x0:x1]
  for shift in (-24, 16):  # multiples of the stride keep the cells aligned
    left = (search - template) // 2 // 8 * 8 + shift
    fz = embed(variables, jnp.asarray(image[None, left:left + template, left:left + template]))
    fz = np.asarray(fz, np.float64)[g.template_start:g.template_start + g.template_cells,
                                    g.template_start:g.template_start + g.template_cells]
    k = g.template_cells
    score = np.zeros((g.score_size, g.score_size))
    for u in range(g.score_size):
      for v in range(g.score_size):
        win = fx[u:u + k, v:v + k]
        score[u, v] = np.sum(win * fz) / np.linalg.norm(win) / np.linalg.norm(fz)
    u, v = np.unravel_index(np.argmax(score), score.shape)
    assert u == v
    # The template's centre, in search-crop pixels, is on anchor cell u.
    assert g.anchor_offset + g.stride * u == pytest.approx(left + template / 2.0)
