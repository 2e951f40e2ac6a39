r"""Converts PyTorch weights into an exported spm-jax model folder.

The authors' SPM-Tracker release (microsoft/SPM-Tracker, AlexNet_C42_OTB)::

  python scripts/convert_weights.py release \
      --cm data/models/spm_tracker/AlexNet_C42_OTB/cm_stage.pt \
      --fm data/models/spm_tracker/AlexNet_C42_OTB/fm_stage.pt \
      --out models/spm_release [--config configs/spm_alexnet.py]
  python scripts/track.py --video clip.mp4 --box x,y,w,h --checkpoint models/spm_release

pysot's ImageNet AlexNet-BN backbone (training initialisation; its BatchNorm
placement differs from our backbone, so only the convolutions can be imported,
see spm_jax/convert.py)::

  python scripts/convert_weights.py pysot --backbone alexnet-bn.pth --conv_only \
      --out models/pysot_init
  python scripts/train.py --config CONFIG --workdir /tmp/run \
      --config.init_backbone=models/pysot_init/backbone.msgpack

(the training config needs pysot's full widths and ungrouped convolutions;
``configs/synthetic.py`` is narrow and does not fit).

The output folder holds ``config.json`` and ``variables.msgpack``
(``spm_jax.export``); for pysot also ``backbone.msgpack``, the backbone alone in
the format that ``config.init_backbone`` of a training config reads. Reading
``.pt`` / ``.pth`` files needs PyTorch (an optional dependency: ``pip install
torch --index-url https://download.pytorch.org/whl/cpu``); ``.npz`` files of
the same state dicts need nothing more.
"""

# pylint: disable=g-import-not-at-top,wrong-import-position
import os

from absl import app
from absl import flags
from ml_collections import config_flags

from spm_jax import cli  # pylint: disable=g-bad-import-order

BACKBONE_FILE = 'backbone.msgpack'
SOURCES = {'release': ('cm', 'fm'), 'pysot': ('backbone',)}  # Source -> its weight flags.
FLAGS = flags.FLAGS


def define_flags():
  """The command line (``cli.absl_run`` defines it when the command runs)."""
  flags.DEFINE_string('out', None, 'Output model folder.')
  flags.mark_flag_as_required('out')
  config_flags.DEFINE_config_file(
      'config', None, "Config file[:arg] (release default: configs/spm_alexnet.py; pysot default: "
      "configs/spm_alexnet.py with backbone.norm='batchnorm' and ungrouped convolutions).")
  flags.DEFINE_string('cm', None, "release: the authors' cm_stage.pt (or .npz).")
  flags.DEFINE_string('fm', None, "release: the authors' fm_stage.pt (or .npz).")
  flags.DEFINE_string('backbone', None, "pysot: pysot's alexnet-bn.pth (or .npz).")
  flags.DEFINE_bool('conv_only', False, 'pysot: import the five convolutions only (our '
                    'BatchNorms sit elsewhere).')


def load_state_dict(path):
  """``spm_jax.convert.load_state_dict``; a missing PyTorch is bad input too."""
  from spm_jax import convert
  try:
    return convert.load_state_dict(path)
  except ImportError as e:
    raise cli.UserError(str(e)) from e


def main(argv=None):
  """Runs the script on ``argv`` (``release`` or ``pysot`` and the flags, without the program
  name; default ``sys.argv[1:]``); exits 2 on bad input and 130 after Ctrl-C (``spm_jax.cli``)."""
  return cli.absl_run(_run, argv, define_flags)


def _run(argv):
  if len(argv) != 2 or argv[1] not in SOURCES:
    raise app.UsageError(f'give one source, release or pysot, before the flags; got {argv[1:]}')
  source = argv[1]
  for name in SOURCES[source]:
    if FLAGS[name].value is None:
      raise cli.UserError(f'{source} needs --{name}')
  config = cli.loaded_config(FLAGS)
  cli.check_writable_folder(FLAGS.out, '--out')

  from spm_jax import convert, export
  try:
    if source == 'release':
      config, variables = convert.convert_release(load_state_dict(FLAGS.cm),
                                                  load_state_dict(FLAGS.fm), config)
    else:
      if config is None:
        config = convert.release_config()
        config.model.backbone.norm = 'batchnorm'
        config.model.backbone.groups = (1, 1, 1, 1, 1)
      variables = convert.convert_pysot_alexnet(load_state_dict(FLAGS.backbone), config,
                                                conv_only=FLAGS.conv_only)
  except ValueError as e:
    raise cli.UserError(str(e)) from e
  export.save_model(FLAGS.out, config, variables)
  print(f'wrote {os.path.abspath(FLAGS.out)} '
        f'({export.CONFIG_FILE} + {export.VARIABLES_FILE})')
  if source == 'pysot':
    # The backbone alone, in the format of config.init_backbone (spm_jax.train.state).
    import flax.serialization
    tree = {'params': variables['params']['backbone']}
    if 'backbone' in variables.get('batch_stats', {}):
      tree['batch_stats'] = variables['batch_stats']['backbone']
    path = os.path.join(FLAGS.out, BACKBONE_FILE)
    with open(path, 'wb') as f:
      f.write(flax.serialization.msgpack_serialize(tree))
    print(f'wrote {os.path.abspath(path)} (train with --config.init_backbone={path})')


if __name__ == '__main__':
  main()
