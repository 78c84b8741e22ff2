"""Slow password hashes (bcrypt). Hashing runs in gevent's thread pool: bcrypt releases the GIL,
so a login costs its ~250 ms without stalling the other requests of the app server."""

from functools import cache

import bcrypt
import gevent


def _in_thread(function, *args):
    return gevent.get_hub().threadpool.apply(function, args)


@cache
def _dummy_hash() -> bytes:
    """Checked against when the e-mail is unknown, so a miss costs as long as a hit."""
    return bcrypt.hashpw(b"not-a-password", bcrypt.gensalt(12))


def hash_password(password: str, rounds: int = 12) -> str:
    return _in_thread(bcrypt.hashpw, password.encode(), bcrypt.gensalt(rounds)).decode()


def check_password(password: str, password_hash: str | None) -> bool:
    hashed = password_hash.encode() if password_hash else _in_thread(_dummy_hash)
    return _in_thread(bcrypt.checkpw, password.encode(), hashed) and password_hash is not None
