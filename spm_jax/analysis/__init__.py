"""Studies and diagnostics beside the evaluation protocol (:mod:`spm_jax.evaluation`).

Modules: ``study`` (the sweep over the paper's ablations on the procedural
videos, ``scripts/study.py``), ``box_stats`` (frames on the target, IoU there,
size drift), ``failures`` (where a tracker is when off the target on procedural
videos), ``choices`` (why: the candidates the step chose among,
``scripts/explain_failures.py``), ``size_response`` (how far the box
regression corrects a wrong size), ``recall`` (the CM candidates' recall of
fig. 6b; imports JAX) and ``tune`` (grid search of tracking values on a
validation split, ``scripts/tune.py``).
"""
