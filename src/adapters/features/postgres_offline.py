"""PostgresOfflineFeatureStore: feature vectors per (feature set, as-of, customer), written with COPY."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.features.vector_codec import pack, unpack, unpack_matrix
from adapters.persistence.feature_tables import customer_feature_vectors, feature_builds, feature_sets
from application.features.model import FeatureBatch, FeatureLayout, FeatureVector
from domain.feature_definition import FeatureDefinition
from domain.timestamps import utc_now

__all__ = ["PostgresOfflineFeatureStore"]

_COLUMNS = ("feature_set_version", "as_of", "customer_id", "numbers", "labels", "pair_numbers")


class PostgresOfflineFeatureStore:
    """A build replaces the previous build of the same feature set and cutoff in one transaction.

    The store owns that transaction: a build is one atomic write, unrelated to any request's unit of work.
    """

    def __init__(self, engine: AsyncEngine, chunk_rows: int = 20_000) -> None:
        self._engine = engine
        self._chunk = chunk_rows

    async def write(self, batch: FeatureBatch, definitions: Sequence[FeatureDefinition]) -> None:
        layout = batch.layout
        version = layout.feature_set_version
        now = utc_now()
        described = [
            {
                "name": d.name,
                "version": d.version,
                "entity": str(d.entity),
                "dtype": str(d.dtype),
                "fingerprint": d.fingerprint,
                "description": d.description,
            }
            for d in definitions
        ]
        shape = {
            "numbers": list(layout.numbers),
            "labels": list(layout.labels),
            "pair_numbers": list(layout.pair_numbers),
        }
        n = len(batch.customer_ids)
        async with self._engine.begin() as connection:
            await connection.execute(
                insert(feature_sets)
                .values(version=version, definitions=described, layout=shape, created_at=now)
                .on_conflict_do_nothing()
            )
            await connection.execute(
                delete(feature_builds).where(
                    feature_builds.c.feature_set_version == version, feature_builds.c.as_of == batch.as_of
                )
            )
            await connection.execute(
                feature_builds.insert().values(
                    feature_set_version=version,
                    as_of=batch.as_of,
                    families=list(batch.families),
                    customers=n,
                    built_at=now,
                )
            )
            raw = await connection.get_raw_connection()
            driver: Any = raw.driver_connection
            for start in range(0, n, self._chunk):
                stop = min(start + self._chunk, n)
                records = [
                    (
                        version,
                        batch.as_of,
                        batch.customer_ids[row],
                        pack(batch.numbers[row]),
                        batch.labels[row].tolist(),
                        pack(batch.pair_numbers[row]),
                    )
                    for row in range(start, stop)
                ]
                await driver.copy_records_to_table(
                    customer_feature_vectors.name, records=records, columns=_COLUMNS
                )

    async def read(
        self, feature_set_version: str, as_of: date, customer_ids: Sequence[str]
    ) -> list[FeatureVector | None]:
        async with self._engine.connect() as connection:
            families = await self._families(connection, feature_set_version, as_of)
            if families is None:
                return [None] * len(customer_ids)
            table = customer_feature_vectors
            rows = await connection.execute(
                select(table.c.customer_id, table.c.numbers, table.c.labels, table.c.pair_numbers).where(
                    table.c.feature_set_version == feature_set_version,
                    table.c.as_of == as_of,
                    table.c.customer_id.in_(list(customer_ids)),
                )
            )
            found = {
                row.customer_id: FeatureVector(
                    customer_id=row.customer_id,
                    as_of=as_of,
                    families=families,
                    numbers=unpack(row.numbers),
                    labels=tuple(row.labels),
                    pair_numbers=unpack(row.pair_numbers),
                )
                for row in rows
            }
        return [found.get(customer_id) for customer_id in customer_ids]

    async def load(self, feature_set_version: str, as_of: date) -> FeatureBatch | None:
        async with self._engine.connect() as connection:
            families = await self._families(connection, feature_set_version, as_of)
            shape = await connection.scalar(
                select(feature_sets.c.layout).where(feature_sets.c.version == feature_set_version)
            )
            if families is None or shape is None:
                return None
            table = customer_feature_vectors
            rows = (
                await connection.execute(
                    select(table.c.customer_id, table.c.numbers, table.c.labels, table.c.pair_numbers)
                    .where(table.c.feature_set_version == feature_set_version, table.c.as_of == as_of)
                    .order_by(table.c.customer_id)
                )
            ).all()
        layout = FeatureLayout(
            feature_set_version=feature_set_version,
            numbers=tuple(shape["numbers"]),
            labels=tuple(shape["labels"]),
            pair_numbers=tuple(shape["pair_numbers"]),
        )
        n, width = len(rows), len(layout.pair_numbers)
        labels = np.empty((n, len(layout.labels)), dtype=object)
        for i, row in enumerate(rows):
            labels[i, :] = row.labels
        return FeatureBatch(
            as_of=as_of,
            layout=layout,
            customer_ids=tuple(row.customer_id for row in rows),
            families=families,
            numbers=unpack_matrix([row.numbers for row in rows], len(layout.numbers)),
            labels=labels,
            pair_numbers=unpack_matrix([row.pair_numbers for row in rows], len(families) * width).reshape(
                n, len(families), width
            ),
        )

    async def _families(
        self, connection: Any, feature_set_version: str, as_of: date
    ) -> tuple[str, ...] | None:
        families = await connection.scalar(
            select(feature_builds.c.families).where(
                feature_builds.c.feature_set_version == feature_set_version,
                feature_builds.c.as_of == as_of,
            )
        )
        return None if families is None else tuple(families)

    async def as_of_dates(self, feature_set_version: str) -> list[date]:
        async with self._engine.connect() as connection:
            rows = await connection.scalars(
                select(feature_builds.c.as_of)
                .where(feature_builds.c.feature_set_version == feature_set_version)
                .order_by(feature_builds.c.as_of)
            )
            return list(rows)
