"""Trackers built on the jitted SPM step."""

from spm_jax.tracking.step import make_track_fns
from spm_jax.tracking.tracker import Tracker
from spm_jax.tracking.multi_tracker import MultiTracker
