"""The encrypted backup format: any change, reordering, cut or addition is
detected, at chunk boundaries too, and a wrong key is told apart."""

import io

import pytest

from clinic import backup_crypto as bc

KEY = bc.parse_key(bc.generate_key())
CHUNK = 64  # small chunks, so a few hundred bytes make several


def encrypted(plain: bytes, key: bytes = KEY) -> bytes:
    out = io.BytesIO()
    bc.encrypt_stream(io.BytesIO(plain), out, key, chunk_bytes=CHUNK)
    return out.getvalue()


def decrypted(data: bytes, key: bytes = KEY) -> bytes:
    out = io.BytesIO()
    bc.decrypt_stream(io.BytesIO(data), out, key, chunk_bytes=CHUNK)
    return out.getvalue()


def frames(data: bytes) -> tuple[bytes, list[bytes]]:
    header, rest, chunks = data[: bc.HEADER_BYTES], data[bc.HEADER_BYTES :], []
    while rest:
        size = 4 + int.from_bytes(rest[:4], "big")
        chunks.append(rest[:size])
        rest = rest[size:]
    return header, chunks


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 5 * CHUNK])
def test_it_round_trips_any_length(size):
    plain = bytes(range(256)) * (size // 256 + 1)
    plain = plain[:size]
    assert decrypted(encrypted(plain)) == plain


def test_two_files_of_the_same_data_differ():
    assert encrypted(b"same dump") != encrypted(b"same dump")


def test_a_wrong_key_is_told_apart_from_damage():
    with pytest.raises(bc.BackupKeyError):
        decrypted(encrypted(b"x" * 300), bc.parse_key(bc.generate_key()))


def test_a_file_cut_between_two_chunks_is_refused():
    header, chunks = frames(encrypted(b"x" * (4 * CHUNK + 10)))
    assert len(chunks) == 5
    with pytest.raises(bc.BackupDamagedError):
        decrypted(header + b"".join(chunks[:3]))


@pytest.mark.parametrize("cut", [1, 5, 17, 100])
def test_a_file_cut_anywhere_is_refused(cut):
    data = encrypted(b"x" * (4 * CHUNK + 10))
    with pytest.raises(bc.BackupDamagedError):
        decrypted(data[:-cut])


def test_reordered_dropped_or_added_chunks_are_refused():
    header, chunks = frames(encrypted(b"".join(bytes([n]) * CHUNK for n in range(4))))
    for broken in (
        [chunks[1], chunks[0], *chunks[2:]],
        [chunks[0], *chunks[2:]],
        [*chunks, chunks[-1]],
    ):
        with pytest.raises(bc.BackupDamagedError):
            decrypted(header + b"".join(broken))


def test_a_changed_byte_or_header_is_refused():
    data = bytearray(encrypted(b"x" * 300))
    data[bc.HEADER_BYTES + 10] ^= 1
    with pytest.raises(bc.BackupDamagedError):
        decrypted(bytes(data))
    data = bytearray(encrypted(b"x" * 300))
    data[len(bc.MAGIC)] ^= 1  # the salt: another file key
    with pytest.raises((bc.BackupKeyError, bc.BackupDamagedError)):
        decrypted(bytes(data))


@pytest.mark.parametrize(
    "text",
    ["", "short", "!" * 44, bc.generate_key()[:-4]],
    # Stable names: each test process must collect the same tests (pytest-xdist).
    ids=["empty", "short", "not-base64", "cut-short"],
)
def test_a_malformed_key_is_refused(text):
    with pytest.raises(bc.BackupKeyError):
        bc.parse_key(text)
