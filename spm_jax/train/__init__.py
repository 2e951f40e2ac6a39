"""Training: losses, FM sampling, optimizer, the pmap-ed step, checkpoints and the loop."""
