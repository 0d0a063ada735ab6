"""Reading CSV files in the encodings Chinese government systems export."""

from __future__ import annotations

from pathlib import Path

import pytest

from dualcontrol.errors import InputError
from dualcontrol.fileio import detect_encoding, read_table, scan_csv


@pytest.mark.parametrize("before_boundary", range(1, 12))
def test_utf8_file_with_a_character_across_a_block_boundary(tmp_path: Path,
                                                              before_boundary: int) -> None:
    # 原 is 3 bytes in UTF-8; place it so reads of 1 MiB (or a few bytes less) cut it
    path = tmp_path / "big.csv"
    head = b"name,value\n"
    pad = b"x" * ((1 << 20) - len(head) - before_boundary)
    path.write_bytes(head + pad + "原,1\n".encode() + "煤,2\n".encode() * 10)
    assert detect_encoding(path) == "utf-8"


@pytest.mark.parametrize(("encoding", "expected"),
                         [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"),
                          ("gbk", "gb18030"), ("gb18030", "gb18030")])
def test_encodings(tmp_path: Path, encoding: str, expected: str) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes("企业,能源品种\n甲,原煤\n".encode(encoding))
    assert scan_csv(path)[0] == expected
    assert list(read_table(path).columns) == ["企业", "能源品种"]


def test_utf16_is_refused_with_the_accepted_encodings(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes("企业,能源品种\n".encode("utf-16"))
    with pytest.raises(InputError) as info:
        detect_encoding(path)
    assert "GB18030" in info.value.problems[0].accepted
