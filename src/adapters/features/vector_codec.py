"""The byte form of feature values shared by both stores: little-endian float64, NaN for missing.

Both stores keep exactly these bytes, so a vector read from either decodes through the same code and
cannot differ; packing is a memory copy, which keeps writes of millions of values cheap.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["pack", "unpack", "unpack_matrix"]

_DTYPE = np.dtype("<f8")


def pack(values: npt.NDArray[Any]) -> bytes:
    return np.ascontiguousarray(values, dtype=_DTYPE).tobytes()


def unpack(raw: bytes) -> tuple[float | None, ...]:
    """Values with None for missing, the form vectors compare and serialise in."""
    return tuple(None if math.isnan(v) else v for v in np.frombuffer(raw, dtype=_DTYPE).tolist())


def unpack_matrix(raws: list[bytes], width: int) -> npt.NDArray[np.float64]:
    """Rows of packed values as one (rows x width) array, NaN kept."""
    matrix: npt.NDArray[np.float64] = np.frombuffer(b"".join(raws), dtype=_DTYPE).reshape(len(raws), width)
    return matrix.astype(np.float64)
