"""dishka providers, one module per feature, added to the container by `make_container`."""
