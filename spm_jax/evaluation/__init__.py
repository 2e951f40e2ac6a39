"""Benchmark evaluation: loaders, OPE and VOT protocols, metrics, plots.

Modules: ``metrics`` (success / precision / normalized precision), ``datasets``
(lazy sequence loaders), ``results`` (result-file formats), ``ope`` (one-pass
evaluation runner), ``report`` (scores of result folders), ``vot`` (supervised
reset protocol and EAO), ``plots`` and ``baselines`` (OpenCV trackers),
``recall`` (the CM candidates' recall of fig. 6b; imports JAX), ``box_stats``
(frames on the target, IoU there, size drift), ``stats`` (paired bootstrap).
"""
