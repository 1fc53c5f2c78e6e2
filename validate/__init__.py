"""Validation with pandera: raw extracts against the contracts, and the canonical model."""
