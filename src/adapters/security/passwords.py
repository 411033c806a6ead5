"""Argon2id password hashing off the event loop, with a bound on how many hashes run at once."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = ["Argon2Parameters", "Argon2PasswordHasher"]

T = TypeVar("T")


class Argon2Parameters:
    """OWASP's Argon2id configuration (19 MiB, 2 passes, 1 lane): each hash in flight holds its memory
    cost, so the bound on concurrent hashes is also a bound on memory (concurrency x 19 MiB)."""

    TIME_COST = 2
    MEMORY_COST_KIB = 19 * 1024
    PARALLELISM = 1
    HASH_LEN = 32
    SALT_LEN = 16


class Argon2PasswordHasher:
    """PasswordHasher on argon2-cffi. At most `concurrency` hashes run at once, each on a worker thread;
    further callers wait on a semaphore. Unknown users are verified against a dummy hash made with the
    same parameters, so they cost the same time as a wrong password."""

    def __init__(
        self,
        concurrency: int,
        *,
        time_cost: int = Argon2Parameters.TIME_COST,
        memory_cost_kib: int = Argon2Parameters.MEMORY_COST_KIB,
        parallelism: int = Argon2Parameters.PARALLELISM,
    ) -> None:
        if concurrency < 1:
            raise ValueError("password hashing concurrency must be at least 1")
        self._hasher = PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_cost_kib,
            parallelism=parallelism,
            hash_len=Argon2Parameters.HASH_LEN,
            salt_len=Argon2Parameters.SALT_LEN,
            type=Type.ID,
        )
        self._semaphore = asyncio.Semaphore(concurrency)
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="argon2")
        self._dummy = self._hasher.hash(secrets.token_urlsafe(24))

    async def _run(self, work: Callable[[], T]) -> T:
        async with self._semaphore:
            return await asyncio.get_running_loop().run_in_executor(self._pool, work)

    async def hash(self, password: str) -> str:
        return await self._run(lambda: self._hasher.hash(password))

    async def verify(self, password_hash: str | None, password: str) -> bool:
        target = password_hash or self._dummy

        def check() -> bool:
            try:
                return self._hasher.verify(target, password)
            except (VerificationError, InvalidHashError):
                return False

        matches = await self._run(check)
        return matches and password_hash is not None

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
