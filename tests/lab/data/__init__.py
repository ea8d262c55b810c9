"""Data for lab agents written by tests (snmpsim ``.snmprec`` generators)."""
