r"""Exported trackers (StableHLO, ONNX) against the JAX tracker, frame by frame in open loop.

  python scripts/check_export.py --export exported/default [--model DIR] \
      [--otb ../shared/realval --sequences bag,ball1] [--synthetic 100] [--frames N]

Before every frame each exported tracker starts from the JAX tracker's state
of the previous frame (``spm_jax/deploy/compare.py``), so every frame measures
the exported step alone. Prints, per sequence and backend, the largest box
difference (frame pixels), the frames whose chosen candidate or candidate set
differs, and the frames decided by a tie of CM scores. ``--model`` is the model
folder (or embedded model name: ``default``, ``procedural``) the export was
written from (default: the embedded default model).
"""

import json

from absl import app
from absl import flags

from spm_jax import cli

FLAGS = flags.FLAGS


def define_flags():
  """The command line (``cli.absl_run`` defines it when the command runs)."""
  flags.DEFINE_string('export', None, 'Folder of export_model.py --format ...')
  flags.mark_flag_as_required('export')
  flags.DEFINE_string('model', None,
                      'Model folder or embedded model name (default: the embedded default).')
  flags.DEFINE_string('otb', None, 'Folder in OTB layout (img/, groundtruth_rect.txt).')
  flags.DEFINE_list('sequences', None, 'Sequence names (default: the first 2).')
  flags.DEFINE_integer('synthetic', 0, 'Frames of a generated video.', lower_bound=0)
  flags.DEFINE_integer('frames', None, 'At most this many frames per sequence.', lower_bound=1)
  flags.DEFINE_string('json', None, 'Write the summaries to this file.')


def _sequences(args):
  """Yields (name, frames iterator, first box x, y, w, h 0-based)."""
  from spm_jax.data import synthetic  # pylint: disable=import-outside-toplevel
  from spm_jax.evaluation import datasets  # pylint: disable=import-outside-toplevel
  if args.synthetic:
    seq = synthetic.generate_sequence(3, num_frames=args.synthetic)
    yield 'synthetic', iter(seq.frames), tuple(float(v) for v in seq.boxes[0][0])
  if args.otb:
    data = datasets.otb_folder(args.otb)
    names = args.sequences or data.names[:2]
    for name in names:
      seq = data[name]
      frames = seq.iter_frames()
      if args.frames:
        frames = (f for _, f in zip(range(args.frames), frames))
      yield name, frames, tuple(float(v) for v in seq.to_image(seq.init_box))


def main(argv=None):
  """Runs the script on ``argv`` (without the program name; default ``sys.argv[1:]``)."""
  return cli.absl_run(_run, argv, define_flags)


def _run(argv):
  if len(argv) > 1:
    raise app.UsageError(f'unexpected arguments: {argv[1:]}')
  args = FLAGS
  if not args.otb and not args.synthetic:
    raise cli.UserError('give --otb and / or --synthetic N')

  from spm_jax import export  # pylint: disable=import-outside-toplevel
  from spm_jax.deploy import compare, runtime  # pylint: disable=import-outside-toplevel
  from spm_jax.tracking import Tracker  # pylint: disable=import-outside-toplevel
  from spm_jax.tracking.tracker import DEFAULT_MODEL_DIR  # pylint: disable=import-outside-toplevel
  config, variables = export.load_checked(args.model or DEFAULT_MODEL_DIR)
  formats = runtime.load_metadata(args.export)['formats']
  out = {}
  for name, frames, box in _sequences(args):
    trackers = {f: runtime.load_tracker(args.export, f) for f in formats}
    results = compare.open_loop(Tracker(config, variables), trackers, frames, box)
    for backend, result in results.items():
      out[f'{name}/{backend}'] = summary = result.summary()
      print(f'{name:16s} {backend:9s} ' + ', '.join(f'{k} {v:.3g}' if isinstance(v, float)
                                                     else f'{k} {v}' for k, v in summary.items()),
            flush=True)
  if args.json:
    with open(args.json, 'w', encoding='utf-8') as f:
      json.dump(out, f, indent=2)


if __name__ == '__main__':
  main()
