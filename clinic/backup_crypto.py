"""Encrypted backup files, written and read as a stream (a dump can be many
gigabytes: it never sits whole in memory).

The format is the STREAM construction (Hoang, Reyhanitabar, Rogaway and
Vizár, 2015), as in Tink's streaming AEAD and age, with AES-256-GCM:

    header  = MAGIC (8 bytes) | salt (16 random bytes) | key check (32 bytes)
    chunk   = length (4 bytes, big-endian) | AES-GCM(plain chunk) with its tag

Each file has its own AES key, derived with HKDF-SHA256 from the
BACKUP_ENCRYPTION_KEY and the file's salt, so nonces never repeat across
files. A chunk's nonce is its number and a flag marking the last chunk, and
each chunk authenticates the header: a chunk changed, moved, dropped or added,
and a file cut short (even between two chunks: the chunk it would end on was
not sealed as the last), fail to decrypt. The key check, also derived from the
key and the salt, tells a wrong key apart from a damaged file.
"""

import base64
import binascii
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"KATBAK\x00\x01"  # the format's name and version
SALT_BYTES = 16
CHECK_BYTES = 32
HEADER_BYTES = len(MAGIC) + SALT_BYTES + CHECK_BYTES
TAG_BYTES = 16
CHUNK_BYTES = 1024 * 1024


class BackupKeyError(Exception):
    """The key is missing, malformed, or not the one the file was written with."""


class BackupDamagedError(Exception):
    """The file was changed or cut short after it was written."""


def generate_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def parse_key(text: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.strip().encode())
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise BackupKeyError(
            "BACKUP_ENCRYPTION_KEY must be 32 random bytes in URL-safe base64 "
            "(manage.py backup_database --generate-key prints one)."
        )
    return key


def is_encrypted(first_bytes: bytes) -> bool:
    return first_bytes.startswith(MAGIC)


def _file_keys(key: bytes, salt: bytes) -> tuple[bytes, bytes]:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32 + CHECK_BYTES, salt=salt, info=b"clinic backup v1"
    ).derive(key)
    return derived[:32], derived[32:]


def _nonce(counter: int, last: bool) -> bytes:
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def encrypt_stream(source, sink, key: bytes, *, chunk_bytes: int = CHUNK_BYTES) -> None:
    """Read `source` (a binary file, e.g. pg_dump's output) to its end and
    write it encrypted to `sink`."""
    salt = os.urandom(SALT_BYTES)
    file_key, check = _file_keys(key, salt)
    header = MAGIC + salt + check
    sink.write(header)
    aead = AESGCM(file_key)
    counter = 0
    chunk = source.read(chunk_bytes)
    while True:
        # One chunk read ahead: the last one is sealed as the last.
        following = source.read(chunk_bytes)
        last = not following
        sealed = aead.encrypt(_nonce(counter, last), chunk, header)
        sink.write(len(sealed).to_bytes(4, "big") + sealed)
        if last:
            return
        chunk, counter = following, counter + 1


def _read_exactly(source, size: int) -> bytes:
    data = b""
    while len(data) < size:
        part = source.read(size - len(data))
        if not part:
            break
        data += part
    return data


def _read_chunk(source, chunk_bytes: int) -> bytes | None:
    length = _read_exactly(source, 4)
    if not length:
        return None
    size = int.from_bytes(length, "big") if len(length) == 4 else -1
    if not TAG_BYTES <= size <= chunk_bytes + TAG_BYTES:
        raise BackupDamagedError("The backup is damaged (a chunk's length is wrong).")
    sealed = _read_exactly(source, size)
    if len(sealed) != size:
        raise BackupDamagedError("The backup is cut short.")
    return sealed


def decrypt_stream(source, sink, key: bytes, *, chunk_bytes: int = CHUNK_BYTES) -> None:
    """Write the plain backup to `sink`; raise before the end if the key is
    wrong or the file is not exactly what encrypt_stream wrote (the caller
    uses the output only once this returns)."""
    header = _read_exactly(source, HEADER_BYTES)
    if len(header) != HEADER_BYTES or not is_encrypted(header):
        raise BackupDamagedError("This is not an encrypted backup, or it is cut short.")
    file_key, check = _file_keys(key, header[len(MAGIC) : len(MAGIC) + SALT_BYTES])
    if not hmac.compare_digest(check, header[-CHECK_BYTES:]):
        raise BackupKeyError("BACKUP_ENCRYPTION_KEY is not the key this backup was written with.")
    aead = AESGCM(file_key)
    counter = 0
    sealed = _read_chunk(source, chunk_bytes)
    if sealed is None:
        raise BackupDamagedError("The backup is cut short.")
    while True:
        following = _read_chunk(source, chunk_bytes)
        last = following is None
        try:
            sink.write(aead.decrypt(_nonce(counter, last), sealed, header))
        except InvalidTag:
            raise BackupDamagedError(
                "The backup is damaged or cut short: it does not decrypt."
            ) from None
        if last:
            return
        sealed, counter = following, counter + 1
