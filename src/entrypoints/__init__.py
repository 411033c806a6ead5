"""Composition root and the ways in: HTTP API, workers, dashboard and the xsell command line."""
