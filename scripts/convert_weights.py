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

  python scripts/convert_weights.py pysot --backbone alexnet-bn.pth --conv-only \
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
import argparse
import os

from spm_jax import cli  # pylint: disable=g-bad-import-order

BACKBONE_FILE = 'backbone.msgpack'


def load_state_dict(path):
  """``spm_jax.convert.load_state_dict``; a missing PyTorch is bad input too."""
  from spm_jax import convert
  try:
    return convert.load_state_dict(path)
  except ImportError as e:
    raise cli.UserError(str(e)) from e


def load_config(spec):
  """``path/to/config.py[:arg]`` -> the file's ``get_config(arg)``."""
  from spm_jax import config_file
  try:
    return config_file.load(spec)
  except FileNotFoundError as e:
    raise cli.UserError(f'--config: {e}') from e


def main(argv=None):
  """Runs the script; exits 2 on bad input and 130 after Ctrl-C (``spm_jax.cli``)."""
  return cli.run(lambda: _run(argv), argv)


def _run(argv):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                   formatter_class=argparse.RawDescriptionHelpFormatter,
                                   epilog=__doc__)
  sub = parser.add_subparsers(dest='source', required=True)
  rel = sub.add_parser('release', help="the authors' cm_stage.pt + fm_stage.pt")
  rel.add_argument('--cm', required=True, help='cm_stage.pt (or .npz)')
  rel.add_argument('--fm', required=True, help='fm_stage.pt (or .npz)')
  pys = sub.add_parser('pysot', help="pysot's alexnet-bn.pth backbone")
  pys.add_argument('--backbone', required=True, help='alexnet-bn.pth (or .npz)')
  pys.add_argument('--conv-only', '--conv_only', dest='conv_only', action='store_true',
                   help='import the five convolutions only (our BatchNorms sit elsewhere)')
  for p in (rel, pys):
    p.add_argument('--config', default=None,
                   help='config file[:arg] (release default: configs/spm_alexnet.py; pysot '
                        "default: configs/spm_alexnet.py with backbone.norm='batchnorm' and "
                        'ungrouped convolutions)')
    p.add_argument('--out', required=True, help='output model folder')
    cli.add_verbose_flag(p)
  args = parser.parse_args(argv)
  cli.check_writable_folder(args.out, '--out')

  from spm_jax import convert, export
  config = load_config(args.config) if args.config else None
  try:
    if args.source == 'release':
      config, variables = convert.convert_release(load_state_dict(args.cm),
                                                  load_state_dict(args.fm), config)
    else:
      if config is None:
        config = convert.release_config()
        config.model.backbone.norm = 'batchnorm'
        config.model.backbone.groups = (1, 1, 1, 1, 1)
      variables = convert.convert_pysot_alexnet(load_state_dict(args.backbone), config,
                                                conv_only=args.conv_only)
  except ValueError as e:
    raise cli.UserError(str(e)) from e
  export.save_model(args.out, config, variables)
  print(f'wrote {os.path.abspath(args.out)} '
        f'({export.CONFIG_FILE} + {export.VARIABLES_FILE})')
  if args.source == 'pysot':
    # The backbone alone, in the format of config.init_backbone (spm_jax.train.state).
    import flax.serialization
    tree = {'params': variables['params']['backbone']}
    if 'backbone' in variables.get('batch_stats', {}):
      tree['batch_stats'] = variables['batch_stats']['backbone']
    path = os.path.join(args.out, BACKBONE_FILE)
    with open(path, 'wb') as f:
      f.write(flax.serialization.msgpack_serialize(tree))
    print(f'wrote {os.path.abspath(path)} (train with --config.init_backbone={path})')


if __name__ == '__main__':
  main()
