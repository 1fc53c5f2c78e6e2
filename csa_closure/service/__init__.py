"""The service layer: units of journey work as plain functions over engines (no Prefect), which
the flows run as tasks."""
