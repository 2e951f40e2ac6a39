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

import argparse
import json


def _sequences(args):
  """Yields (name, frames iterator, first box x, y, w, h 0-based)."""
  from spm_jax.data import synthetic  # pylint: disable=import-outside-toplevel
  from spm_jax.evaluation import datasets  # pylint: disable=import-outside-toplevel
  if args.synthetic:
    seq = synthetic.generate_sequence(3, num_frames=args.synthetic)
    yield 'synthetic', iter(seq.frames), tuple(float(v) for v in seq.boxes[0][0])
  if args.otb:
    data = datasets.otb_folder(args.otb)
    names = args.sequences.split(',') if args.sequences else list(data)[:2]
    for name in names:
      seq = data[name]
      frames = seq.iter_frames()
      if args.frames:
        frames = (f for _, f in zip(range(args.frames), frames))
      yield name, frames, tuple(float(v) for v in seq.to_image(seq.init_box))


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  parser.add_argument('--export', required=True, help='folder of export_model.py --format ...')
  parser.add_argument('--model', default=None,
                      help='model folder or embedded model name (default: the embedded default)')
  parser.add_argument('--otb', default=None, help='folder in OTB layout (img/, groundtruth_rect.txt)')
  parser.add_argument('--sequences', default=None, help='comma-separated names (default: first 2)')
  parser.add_argument('--synthetic', type=int, default=0, help='frames of a generated video')
  parser.add_argument('--frames', type=int, default=None, help='at most this many frames per sequence')
  parser.add_argument('--json', default=None, help='write the summaries to this file')
  args = parser.parse_args(argv)
  if not args.otb and not args.synthetic:
    parser.error('give --otb and / or --synthetic N')

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
