"""Password hashing (argon2id via argon2-cffi) and the password rule every account follows."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 10
MAX_LENGTH = 256

_hasher = PasswordHasher()
# verified against when the username is unknown, so that both answers take as long
_DUMMY = _hasher.hash("not-a-password-of-anyone")


def check_password_rule(password: str) -> str:
    """``password`` if acceptable, else ValueError saying what is required."""
    if len(password) < MIN_LENGTH:
        raise ValueError(f"the password must have at least {MIN_LENGTH} characters (it has {len(password)})")
    if len(password) > MAX_LENGTH:
        raise ValueError(f"the password must have at most {MAX_LENGTH} characters")
    if password.strip() != password:
        raise ValueError("the password must not start or end with a space")
    return password


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Constant-work check: an unknown user (``stored_hash`` None) costs one hash like a known one."""
    try:
        return _hasher.verify(stored_hash or _DUMMY, password[:MAX_LENGTH]) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    try:
        return _hasher.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True
