"""Slow password hashes (bcrypt). Hashing runs in gevent's thread pool: bcrypt releases the GIL,
so a login costs its ~250 ms without stalling the other requests of the app server."""

from functools import cache

import bcrypt
import gevent

MAX_BYTES = 72  # bcrypt's limit; bcrypt 5 refuses longer input instead of silently cutting it


def _in_thread(function, *args):
    return gevent.get_hub().threadpool.apply(function, args)


@cache
def _dummy_hash() -> bytes:
    """Checked against when the e-mail is unknown, so a miss costs as long as a hit."""
    return bcrypt.hashpw(b"not-a-password", bcrypt.gensalt(12))


def hash_password(password: str, rounds: int = 12) -> str:
    secret = password.encode()
    if len(secret) > MAX_BYTES:
        raise ValueError(f"a password can be at most {MAX_BYTES} bytes long")
    return _in_thread(bcrypt.hashpw, secret, bcrypt.gensalt(rounds)).decode()


def check_password(password: str, password_hash: str | None) -> bool:
    secret = password.encode()
    usable = password_hash is not None and len(secret) <= MAX_BYTES  # a longer one can't have been set
    hashed = password_hash.encode() if usable else _in_thread(_dummy_hash)
    return _in_thread(bcrypt.checkpw, secret[:MAX_BYTES], hashed) and usable
