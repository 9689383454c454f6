"""A torchrun worker that does nothing: the sweep's valid call of ``companion.distributed.run_torchrun``."""
