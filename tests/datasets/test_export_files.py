"""Redacting the API key from files the export writes: a key split across read chunks, bytes that are not UTF-8."""

from pathlib import Path

from datasets.export_files import REDACT_CHUNK_BYTES, redact_file
from datasets.safety import redact

KEY = "0ac5aea5-19f6-429a-8362-c5b3ce28d92c"


def redact_key(text: str) -> str:
    return redact(text, KEY)


def test_a_key_split_across_two_read_chunks_is_redacted(tmp_path: Path):
    path = tmp_path / "source.csv"
    head = b"a" * (REDACT_CHUNK_BYTES - 10)  # the key starts 10 bytes before the first chunk ends
    path.write_bytes(head + KEY.encode() + b"\n" + KEY.encode())
    assert redact_file(path, redact_key)
    assert path.read_bytes() == head + b"***\n***"


def test_bytes_that_are_not_utf8_pass_through_unchanged(tmp_path: Path):
    path = tmp_path / "source.xls"
    binary = bytes(range(256)) * 3
    path.write_bytes(binary + KEY.encode() + binary)
    assert redact_file(path, redact_key)
    assert path.read_bytes() == binary + b"***" + binary


def test_a_file_without_the_key_is_left_alone(tmp_path: Path):
    path = tmp_path / "source.csv"
    path.write_bytes(b"amount\n1\n")
    before = path.stat().st_mtime_ns
    assert not redact_file(path, redact_key)
    assert path.read_bytes() == b"amount\n1\n" and path.stat().st_mtime_ns == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["source.csv"], "no partial file left behind"
