"""Renderings of the engine's models for people: letters' text, terminal tables, markdown and
HTML pages. They render what the rules produced, and decide nothing."""
