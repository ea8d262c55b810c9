"""Persistence of the status engine: tables, applying a sweep, problems and the listings over them."""
