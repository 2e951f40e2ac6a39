"""One object tracked through a stream of frames into an annotated video and OTB results.

Shared by ``scripts/track.py`` (video files, image folders, cameras; its
module docstring lists the arguments and outputs) and :mod:`spm_jax.demo` (a
generated video): how a tracker is chosen (:func:`build_tracker`), the
tracking loop (:func:`tracked_frames`) and the whole run of the script
(:func:`track`). Boxes are ``x, y, w, h`` in frame pixels with a 0-based
top-left corner (OTB convention). Bad input raises :class:`spm_jax.cli.UserError`
with a one-line message naming the argument.
"""

import json
import os
import sys

import numpy as np

from spm_jax import cli
from spm_jax import video_io

UserError = cli.UserError


def build_tracker(config, checkpoint):
  """A Tracker from ``--config`` / ``--checkpoint`` (``scripts/track.py``'s docstring).

  Args:
    config: ml_collections.ConfigDict of the model, or None (the checkpoint's).
    checkpoint: exported model folder or embedded model name, or None (the
      embedded default model).
  """
  import jax  # pylint: disable=import-outside-toplevel
  from spm_jax import export, models  # pylint: disable=import-outside-toplevel
  from spm_jax.tracking import Tracker  # pylint: disable=import-outside-toplevel
  if checkpoint:
    try:
      config, variables = export.load_checked(checkpoint, config)
    except (FileNotFoundError, ValueError) as e:
      raise UserError(str(e)) from e
    return Tracker(config, variables), f'checkpoint {checkpoint}'
  if config is not None:
    print('warning: --config without --checkpoint: RANDOMLY INITIALISED weights', flush=True)
    return Tracker(config, models.init_variables(config, jax.random.key(config.seed))), 'random'
  tracker = Tracker.pretrained()
  if not getattr(tracker, 'trained', False):
    print('note: no trained checkpoint is embedded yet; tracking with random weights', flush=True)
    return tracker, 'random (no embedded checkpoint)'
  return tracker, 'embedded default model'


def select_box(frame):
  """Lets the user draw a box on ``frame`` (RGB); returns x, y, w, h.

  Raises:
    UserError when no display is available, OpenCV has no GUI support, or the
    selection was cancelled.
  """
  import cv2  # pylint: disable=import-outside-toplevel
  if sys.platform.startswith('linux') and not (os.environ.get('DISPLAY') or
                                               os.environ.get('WAYLAND_DISPLAY')):
    raise UserError('--select needs a display (DISPLAY is not set); pass the first box with '
                    '--box x,y,w,h instead')
  try:
    x, y, w, h = cv2.selectROI('select the target, then press ENTER or SPACE',
                               cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), showCrosshair=True)
    cv2.destroyAllWindows()
  except cv2.error as e:
    raise UserError('--select needs an OpenCV build with GUI support (opencv-python, not '
                    f'opencv-python-headless); pass --box x,y,w,h instead ({e.msg.strip()})') from e
  if w <= 0 or h <= 0:
    raise UserError('no box selected (selection cancelled)')
  return np.array([x, y, w, h], np.float64)


def source_name(args):
  if args.name:
    return args.name
  if args.video:
    return os.path.splitext(os.path.basename(os.path.normpath(args.video)))[0]
  if args.frames:
    folder = os.path.normpath(args.frames)
    base = os.path.basename(folder)
    return os.path.basename(os.path.dirname(folder)) if base == 'img' else base
  return f'webcam{args.webcam}'


def to_list(x):
  return np.asarray(x).tolist()


def check_args(args):
  """Refuses bad arguments (UserError naming the argument) before anything is read or written.

  Returns:
    the first box, float64 [4] x, y, w, h frame pixels, or None with ``--select``.
  """
  if args.box is None and not args.select:
    raise UserError('give the first box with --box x,y,w,h or draw it with --select')
  box = None
  if args.box is not None:
    try:
      box = video_io.parse_box(args.box)
    except ValueError as e:
      raise UserError(f'--box: {e}') from e
  if args.max_frames is not None and args.max_frames < 1:
    raise UserError(f'--max_frames must be positive, got {args.max_frames}')
  if args.fps is not None and not (np.isfinite(args.fps) and args.fps > 0):
    raise UserError(f'--fps must be a positive number of frames per second, got {args.fps:g}')
  if args.log_every < 0:
    raise UserError(f'--log_every must be 0 (only at the end) or positive, got {args.log_every}')
  if len(args.codec) != 4:
    raise UserError(f'--codec must be a four-character code such as mp4v, got {args.codec!r}')
  if args.name is not None and (not args.name or os.sep in args.name or args.name in ('.', '..')):
    raise UserError(f'--name must be a file stem without {os.sep!r}, got {args.name!r}')
  if args.video is not None and os.path.isdir(args.video):
    raise UserError(f'--video {args.video!r} is a folder; pass a folder of images with --frames')
  if args.frames is not None and os.path.isfile(args.frames):
    raise UserError(f'--frames {args.frames!r} is a file; pass a video file with --video')
  if args.checkpoint is not None and not os.path.isdir(args.checkpoint):
    raise UserError(f'--checkpoint {args.checkpoint!r} is not a folder (an exported model '
                    'folder holds config.json and variables.msgpack)')
  cli.loaded_config(args)
  cli.check_writable_folder(args.out, '--out')
  return box


def tracked_frames(tracker, first, box, frames, meter, source='the video'):
  """Initialises ``tracker`` on ``first`` and tracks through ``frames``.

  Args:
    tracker: a :class:`spm_jax.tracking.Tracker`.
    first: uint8 [H, W, 3] RGB first frame; box: [4] x, y, w, h frame pixels in it.
    frames: iterable of the next frames (uint8 [H, W, 3] RGB, or None for an
      unreadable one).
    meter: a :class:`spm_jax.video_io.FpsMeter`; times the template and every
      update.
    source: the source's name, for the error on a frame of another size.

  Yields:
    ``(0, first, box, None)`` once the template is taken, then ``(index,
    frame, box, score)`` per frame (box [4] x, y, w, h frame pixels) and
    ``(index, None, None, None)`` for an unreadable frame. Stops between frames
    after Ctrl-C (:func:`spm_jax.cli.stop_requested`).

  Raises:
    UserError: a frame whose size differs from the first one's.
  """
  meter.start()
  tracker.init(first, box)
  meter.stop()
  yield 0, first, box, None
  height, width = first.shape[:2]
  for index, frame in enumerate(frames, start=1):
    if cli.stop_requested():
      return
    if frame is None:
      yield index, None, None, None
      continue
    if frame.shape != first.shape:
      raise UserError(f'frame {index} of {source!r} is {frame.shape[1]}x'
                      f'{frame.shape[0]}, the first was {width}x{height}')
    meter.start()
    pred, score = tracker.update(frame)
    meter.stop()
    yield index, frame, pred, score


def track(args):
  """Tracks ``args``' source; returns a dict of output paths, ``fps`` and ``num_frames``.

  Args:
    args: ``scripts/track.py``'s flags (its absl FLAGS, or any object with those
      attributes; ``config`` an ml_collections.ConfigDict or None).
  """
  box = check_args(args)
  try:
    source = video_io.FrameSource.open(video=args.video, frames=args.frames, webcam=args.webcam,
                                       max_frames=args.max_frames)
  except video_io.VideoReadError as e:
    raise UserError(str(e)) from e
  name = source_name(args)
  paths = {'video': os.path.join(args.out, f'{name}.mp4'),
           'results': os.path.join(args.out, f'{name}.txt'),
           'times': os.path.join(args.out, f'{name}_time.txt')}
  if args.dump_scores:
    paths['scores'] = os.path.join(args.out, f'{name}_scores.jsonl')

  with source:
    frames = iter(source)
    try:
      first = next(frames)
    except (StopIteration, video_io.VideoReadError) as e:
      raise UserError(f'no frame could be read from {source.name!r}: {e}') from e
    if args.select:
      box = select_box(first)
    try:
      box, inside = video_io.check_box_in_frame(box, first.shape)
    except ValueError as e:
      raise UserError(str(e)) from e
    if inside < 0.5:
      print(f'warning: only {inside:.0%} of the box {box.tolist()} lies inside the '
            f'{first.shape[1]}x{first.shape[0]} frame', flush=True)

    height, width = first.shape[:2]
    cli.raise_if_interrupted()
    tracker, weights = build_tracker(args.config, args.checkpoint)
    cli.raise_if_interrupted()  # Nothing written yet.
    outputs = video_io.PendingOutputs(paths)
    try:
      writer = video_io.Mp4Writer(outputs.partial['video'], args.fps or source.fps,
                                  (width, height), codec=args.codec)
    except video_io.VideoWriterError as e:
      outputs.discard()
      raise UserError(str(e).replace(outputs.partial['video'], paths['video'])) from e

    print(f'tracking {source.name} ({width}x{height}) from box {box.tolist()} '
          f'with {weights}', flush=True)
    meter = video_io.FpsMeter()
    boxes, times = [box], [0.0]
    dump = open(outputs.partial['scores'], 'w') if args.dump_scores else None
    keep = False  # Rename the outputs into place when the run ends?
    try:
      writer.write(video_io.draw_text(video_io.draw_box(first, box, label='init'), '#0'))
      shown = None
      for index, frame, pred, score in tracked_frames(tracker, first, box, frames, meter,
                                                      source.name):
        if index == 0:
          times[0] = meter.times.pop()  # the template, not a tracked frame
          continue
        if frame is None:  # an unreadable image: keep the box, keep the numbering
          boxes.append(boxes[-1])
          times.append(0.0)
          base = shown if shown is not None else first
          writer.write(video_io.draw_text(base, f'#{index}  unreadable frame skipped'))
          continue
        times.append(meter.times[-1])
        boxes.append(pred)
        out = tracker.last_outputs
        shown = frame
        if args.draw_proposals:
          fm = None if tracker.config.model.variant == 'cm_only' else out['fm_scores']
          shown = video_io.draw_proposals(shown, out['proposals'], out['cm_scores'], fm,
                                          out['valid'])
        shown = video_io.draw_box(shown, pred, score)
        shown = video_io.draw_text(shown, f'#{index}  {meter.fps:.1f} fps')
        writer.write(shown)
        if dump is not None:
          dump.write(json.dumps({
              'frame': index, 'box': to_list(pred), 'score': float(score),
              'proposals': to_list(out['proposals']), 'cm_scores': to_list(out['cm_scores']),
              'fm_scores': to_list(out['fm_scores']),
              'fused_scores': to_list(out['fused_scores']), 'valid': to_list(out['valid']),
              'chosen': int(out['chosen']),
          }) + '\n')
        if args.log_every and index % args.log_every == 0:
          print(f'frame {index}: {meter.fps:.1f} fps', flush=True)
      # Interrupted before the first tracked frame: nothing worth replacing earlier outputs.
      keep = len(boxes) > 1 or not cli.stop_requested()
    except video_io.VideoReadError as e:
      keep = True
      raise UserError(f'{e} (results up to frame {len(boxes) - 1} are written)') from e
    finally:
      writer.close()
      if dump is not None:
        dump.close()
      if keep:
        video_io.write_results(outputs.partial['results'], boxes)
        np.savetxt(outputs.partial['times'], np.asarray(times), fmt='%.6f')
        outputs.commit()
      else:
        outputs.discard()
    if cli.stop_requested():
      if not keep:
        raise KeyboardInterrupt
      print(f'interrupted: the outputs hold frames 0 to {len(boxes) - 1}', flush=True)

  fps = meter.median_fps
  print(f'tracked {len(boxes)} frames at {fps:.1f} fps (median, after compilation)')
  if source.unreadable:
    print(f'{len(source.unreadable)} unreadable images were skipped (their result rows repeat '
          f'the previous box): {", ".join(os.path.basename(p) for p in source.unreadable)}')
  for key, path in paths.items():
    print(f'{key + ":":9}{os.path.abspath(path)}')
  return dict(paths, fps=fps, num_frames=len(boxes))
