"""Keys of the store: HMAC session keys and the cipher that seals a hand-over chat link.

A ``SessionKey`` can only be made by a ``Keyring`` from a Telegram user id, so
no function of the store can be handed a plain id by mistake: the type checker
and the constructor both refuse it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import NoReturn

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bot.errors import OptionError, StoreError

MIN_SECRET_BYTES = 32  # an HMAC key shorter than its hash output weakens it
_MAKE_ONE = 'make one with: python -c "import secrets; print(secrets.token_urlsafe(48))"'
_MINT = object()  # only this module (and the store, through _restore) may make a SessionKey
_SESSION_DOMAIN = b"podruga/session/v1:"  # separates session keys from any other use of the secret
_CASE_INFO = b"podruga/case-link/v1"  # HKDF info: the case key is never used as it is
_NONCE_BYTES = 12  # AES-GCM's standard nonce length


class SessionKey:
    """The HMAC of a Telegram user id: the only handle the store accepts for a woman."""

    __slots__ = ("_hex",)
    _hex: str

    def __init__(self, digest: str, *, _mint: object = None) -> None:
        if _mint is not _MINT:
            raise TypeError("make a SessionKey with Keyring(secret).session_key(user_id)")
        if len(digest) != 64 or digest.strip("0123456789abcdef"):
            raise ValueError("a session key is 64 lowercase hex digits")
        object.__setattr__(self, "_hex", digest)

    @property
    def hex(self) -> str:
        """The 64 hex digits the store keeps; never log them."""
        return self._hex

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("SessionKey is immutable")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SessionKey) and hmac.compare_digest(self._hex, other._hex)

    def __hash__(self) -> int:
        return hash(self._hex)

    def __repr__(self) -> str:
        # Never the digest itself: reprs end up in logs and tracebacks.
        return "SessionKey(<hidden>)"

    def __reduce__(self) -> NoReturn:
        raise TypeError("SessionKey is not picklable")


def _restore(digest: str) -> SessionKey:
    """Rebuild a key the store itself wrote (for a hand-over case); not for adapters."""
    return SessionKey(digest, _mint=_MINT)


class Keyring:
    """Turns Telegram user ids into session keys with HMAC-SHA256 and a secret."""

    __slots__ = ("_secret",)

    def __init__(self, secret: bytes) -> None:
        if not isinstance(secret, bytes):
            raise TypeError("the keyring secret must be bytes")
        if len(secret) < MIN_SECRET_BYTES:
            raise OptionError(
                f"the secret is {len(secret)} bytes long, it must be at least "
                f"{MIN_SECRET_BYTES}; {_MAKE_ONE}"
            )
        self._secret = secret

    @classmethod
    def throwaway(cls) -> Keyring:
        """A random keyring (bench/store_bench.py): its keys mean nothing after the process ends."""
        return cls(secrets.token_bytes(MIN_SECRET_BYTES))

    def session_key(self, user_id: int) -> SessionKey:
        """Return the key of the woman with this Telegram user id."""
        if isinstance(user_id, bool) or not isinstance(user_id, int):
            raise TypeError("session_key takes the Telegram user id as an int")
        message = _SESSION_DOMAIN + str(user_id).encode("ascii")
        return _restore(hmac.new(self._secret, message, hashlib.sha256).hexdigest())

    def __repr__(self) -> str:
        return "Keyring(<secret>)"

    def __reduce__(self) -> NoReturn:
        raise TypeError("Keyring is not picklable")


class CaseCipher:
    """Seals the link to her chat (the chat id) while a hand-over case is open (AES-GCM)."""

    __slots__ = ("_aead",)

    def __init__(self, key: bytes) -> None:
        if not isinstance(key, bytes):
            raise TypeError("the case key must be bytes")
        if len(key) < MIN_SECRET_BYTES:
            raise OptionError(
                f"the case key is {len(key)} bytes long, it must be at least "
                f"{MIN_SECRET_BYTES}; {_MAKE_ONE}"
            )
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_CASE_INFO)
        self._aead = AESGCM(derived.derive(key))

    def seal(self, chat_id: int) -> bytes:
        """Encrypt a chat id; the result is nonce + ciphertext + tag, different every call."""
        if isinstance(chat_id, bool) or not isinstance(chat_id, int):
            raise TypeError("seal takes the chat id as an int")
        nonce = secrets.token_bytes(_NONCE_BYTES)
        plain = str(chat_id).encode("ascii")
        return nonce + self._aead.encrypt(nonce, plain, _CASE_INFO)

    def open(self, sealed: bytes) -> int:
        """Decrypt a sealed chat id, or raise StoreError if the key or the bytes are wrong."""
        nonce, body = sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:]
        try:
            return int(self._aead.decrypt(nonce, body, _CASE_INFO).decode("ascii"))
        except (InvalidTag, ValueError):
            raise StoreError(
                "a hand-over chat link cannot be opened: PODRUGA_CASE_KEY is not the key "
                "it was sealed with, or the stored link is damaged"
            ) from None

    def __repr__(self) -> str:
        return "CaseCipher(<key>)"
