"""Resolution adapters: vectorised blocking and pair scoring with numpy, scipy and rapidfuzz."""
