"""Renderings of the engine's models for people: terminal tables, markdown and HTML pages."""
