"""Extract: the legacy schemas, one module declaring each legacy system and their registry
(``systems.py``), and the batch reader streaming canonical batches."""
