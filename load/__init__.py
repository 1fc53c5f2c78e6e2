"""The target database: its schema, its migrations and set-based writes."""
