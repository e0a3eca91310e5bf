"""Safety plumbing around the pure crisis detector in ``flows.safety``."""
