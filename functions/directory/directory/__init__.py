"""The care-unit directory e-service: the HSA catalogue feed in, public search out."""
