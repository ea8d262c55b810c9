"""Tests of the report renderers (json, csv, xlsx, pdf)."""
