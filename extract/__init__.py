"""Extract: the legacy schemas and one adapter per legacy system, streaming canonical batches."""
