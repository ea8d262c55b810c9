"""The REST API, mounted under ``/api`` by :mod:`web.app`: the HTTP layer over the domains, never imported by them.

``inventory/`` is the inventory in NetBox conventions (``/api/<domain>/<plural-kebab>/``); ``events`` the event
log and maintenance windows; ``status`` the current states, sites and series; ``problems`` the problems and their
actions; ``reports`` the report documents. Authentication and shared dependencies are :mod:`web.auth` and
:mod:`web.deps`.
"""
