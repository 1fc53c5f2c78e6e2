"""Presentation: the letters' text, the report's and the forecast's pages. It renders models
the rules produced, and decides nothing."""
