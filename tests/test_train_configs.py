"""Training configs: paper numbers, derived fields, ablation variants."""

import pytest

from spm_jax import config_file
from spm_jax.train import trainer

common_train = config_file.load_module('common_train')
spm_alexnet = config_file.load_module('spm_alexnet')
synthetic = config_file.load_module('synthetic')


def test_paper_numbers_in_the_training_section():
  config = common_train.add_training(spm_alexnet.get_config(), batch_size=64)
  assert tuple(config.loss.weights) == (1.0, 2.0, 1.0, 1.0)
  assert (config.lr.base, config.lr.final) == (1e-2, 1e-4)
  assert config.num_epochs == 50 and config.data.pairs_per_epoch == 160_000
  assert config.fm_train.num_samples == 48 and config.fm_train.positive_fraction == 0.5
  assert config.fm_train.pos_iou == config.fm_train.neg_iou == 0.5
  assert (config.data.cm_pos_iou, config.data.cm_neg_iou) == (0.6, 0.3)
  final = trainer.finalize_config(config)
  assert final.total_steps == 50 * 160_000 // 64
  assert final.lr.warmup_steps == 5 * 160_000 // 64
  assert config.total_steps is None  # finalize works on a copy
  # The loader's batch follows the global batch.
  config.batch_size = 128
  assert config.data.batch_size == 128


def test_synthetic_variants():
  base = synthetic.get_config()
  assert base.model.variant == 'series_parallel' and base.data.generalized
  assert base.model.backbone.norm == 'batchnorm'
  assert base.model.backbone.channels == spm_alexnet.get_config('runlocal').model.backbone.channels
  cm_only = synthetic.get_config('variant=cm_only,gt=False,k=5')
  assert cm_only.model.variant == 'cm_only' and not cm_only.data.generalized
  assert cm_only.tracking.num_candidates == 5
  assert tuple(cm_only.loss.weights)[2:] == (0.0, 0.0)
  assert synthetic.get_config('variant=series').model.variant == 'series'
  tiny = trainer.finalize_config(synthetic.get_config('runlocal'))
  assert tiny.total_steps == 8 and tiny.model.search_size == 175
  with pytest.raises(ValueError):
    synthetic.get_config('variant=parallel')
