"""Studies and diagnostics beside the evaluation protocol (:mod:`spm_jax.evaluation`).

Modules: ``study`` (the sweep over the paper's ablations on the procedural
videos, ``scripts/study.py``).
"""
