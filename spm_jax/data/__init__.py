"""Training data: procedural videos, tfds builders, the pair sampler, the input pipeline."""
