"""Blind indexes: keyed, normalized, Vietnamese names with or without diacritics."""

from __future__ import annotations

import hashlib
import hmac
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.crypto.blind_index import (
    fold_diacritics,
    id_number_index,
    name_indexes,
    name_search_index,
    normalize,
    phone_index,
)
from app.crypto.keyring import Keyring, keyring, write_key_file


def test_normalize_and_fold():
    assert normalize("  Nguyễn   Thị\tHOA \n") == "nguyễn thị hoa"
    assert fold_diacritics("Nguyễn Thị Hoa") == "nguyen thi hoa"
    assert fold_diacritics("ĐẶNG Văn Đức") == "dang van duc"
    assert fold_diacritics("Trần Thị Ánh Nguyệt") == "tran thi anh nguyet"


def test_decomposed_input_gives_the_same_indexes(key_file):
    composed = "Nguyễn Thị Hoa"
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    assert name_indexes(composed) == name_indexes(decomposed)


def test_folded_index_matches_without_diacritics(key_file):
    exact, folded = name_indexes("Nguyễn Thị Hoa")
    other_exact, other_folded = name_indexes("nguyen  thi HOA")
    assert folded == other_folded
    assert exact != other_exact  # the exact index keeps the diacritics
    assert exact != folded
    assert name_indexes("Nguyễn Thị Hòa")[1] == folded  # folded matches other tones too
    assert name_indexes("Nguyễn Thị Hòa")[0] != exact


def test_search_uses_exact_index_when_the_query_has_diacritics(key_file):
    exact, folded = name_indexes("Nguyễn Thị Hoa")
    assert name_search_index("nguyen thi hoa") == ("folded", folded)
    assert name_search_index("NGUYỄN  thị hoa") == ("exact", exact)
    assert name_search_index("Nguyễn Thị Hòa") == ("exact", name_indexes("Nguyễn Thị Hòa")[0])
    assert name_search_index("dang van duc")[1] == name_indexes("Đặng Văn Đức")[1]
    assert name_search_index("Đang van duc")[0] == "exact"  # đ is a diacritic letter


def test_phone_index_normalizes_country_code(key_file):
    local = phone_index("0912345678")
    assert phone_index("+84 912 345 678") == local
    assert phone_index("84-912-345-678") == local
    assert phone_index("0084 912.345.678") == local
    assert phone_index("0912 345 679") != local


def test_id_number_index(key_file):
    assert id_number_index("037-123.456 789") == id_number_index("037123456789")
    assert id_number_index("b1234567") == id_number_index("B 1234567")
    assert id_number_index("B1234567") != id_number_index("B1234568")


def test_indexes_are_domain_separated(key_file):
    assert phone_index("0912345678") != id_number_index("0912345678")
    assert name_indexes("hoa")[0] != name_indexes("hoa")[1]


def test_empty_values_are_not_indexed(key_file):
    with pytest.raises(ValueError):
        name_indexes("   ")
    with pytest.raises(ValueError):
        phone_index("không có")
    with pytest.raises(ValueError):
        id_number_index("--")


def test_index_is_hmac_sha256_under_the_index_key_only(app, key_file, monkeypatch, tmp_path):
    ring = keyring()
    assert ring.index_key != ring.audit_key
    assert ring.index_key not in ring.master_keys.values()
    expected = hmac.new(ring.index_key, b"name_folded:nguyen thi hoa", hashlib.sha256).hexdigest()
    assert name_indexes("Nguyễn Thị Hoa")[1] == expected
    for other_key in (ring.audit_key, *ring.master_keys.values()):
        assert hmac.new(other_key, b"name_folded:nguyen thi hoa", hashlib.sha256).hexdigest() != (
            expected
        )
    before = (name_indexes("Nguyễn Thị Hoa"), phone_index("0912345678"))
    other = tmp_path / "another-key-set.json"
    write_key_file(other, Keyring.generate())
    monkeypatch.setitem(app.config, "CAUNOI_KEY_FILE", str(other))
    after = (name_indexes("Nguyễn Thị Hoa"), phone_index("0912345678"))
    assert before[0][0] != after[0][0] and before[0][1] != after[0][1]
    assert before[1] != after[1]


def test_indexes_survive_master_key_rotation(app, key_file):
    from app.crypto.rotation import rotate_master_key
    from app.permissions import Actor

    before = name_indexes("Nguyễn Thị Hoa")
    rotate_master_key(Actor.system("cli"), app.config)
    assert keyring().current_master_version == 2
    assert name_indexes("Nguyễn Thị Hoa") == before


@given(st.text())
def test_normalize_and_fold_are_idempotent(value):
    assert normalize(normalize(value)) == normalize(value)
    assert fold_diacritics(fold_diacritics(value)) == fold_diacritics(value)
