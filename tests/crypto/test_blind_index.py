"""Blind indexes: keyed, normalized, per word, truncated tags and proofs bound to row and column."""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from collections import Counter
from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st

from app.crypto import blind_index as bi
from app.crypto.keyring import Keyring, keyring, write_key_file

KEY = b"k" * 32


def test_normalize_and_fold():
    assert bi.normalize("  Nguyễn   Thị\tHOA \n") == "nguyễn thị hoa"
    assert bi.fold_diacritics("Nguyễn Thị Hoa") == "nguyen thi hoa"
    assert bi.fold_diacritics("ĐẶNG Văn Đức") == "dang van duc"
    assert bi.fold_diacritics("Trần Thị Ánh Nguyệt") == "tran thi anh nguyet"


def test_name_words_are_whole_words_once_each():
    assert bi.name_words("Nguyễn Thị  Hoa (Hoa) ") == [
        ("nguyễn", "nguyen"),
        ("thị", "thi"),
        ("hoa", "hoa"),
    ]
    assert bi.name_words("   ") == []


def test_decomposed_input_gives_the_same_tokens():
    composed = "Nguyễn Thị Hoa"
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    assert bi.tokens_for(KEY, "full_name", 7, composed) == bi.tokens_for(
        KEY, "full_name", 7, decomposed
    )


def _token(field, row_id, value):
    (t,) = [t for t in bi.tokens_for(KEY, field, row_id, value)]
    return SimpleNamespace(field=t.field, tag=t.tag, proof=t.proof, proof_exact=t.proof_exact)


def test_a_word_without_diacritics_finds_every_spelling_one_with_them_only_itself():
    hoa, hoa_grave = _token("full_name", 5, "Hòa"), _token("full_name", 5, "Hoa")
    (plain,) = bi.name_probes(KEY, "HOA")
    (marked,) = bi.name_probes(KEY, "hòa")
    assert plain.proves(KEY, 5, hoa) and plain.proves(KEY, 5, hoa_grave)
    assert marked.proves(KEY, 5, hoa) and not marked.proves(KEY, 5, hoa_grave)
    (dang,) = bi.name_probes(KEY, "Đang")  # đ is a letter with a mark
    assert dang.exact and dang.value == "đang"


def test_a_proof_holds_only_for_its_own_row_and_column():
    token = _token("full_name", 5, "Hoa")
    (probe,) = bi.name_probes(KEY, "hoa")
    assert probe.proves(KEY, 5, token)
    assert not probe.proves(KEY, 6, token)  # moved to another row
    moved = SimpleNamespace(**{**vars(token), "field": "other_names"})
    assert not probe.proves(KEY, 5, moved)  # relabelled as another column
    phone = _token("phone", 5, "0912345678")
    assert bi.value_probe(KEY, bi.PHONE, "+84 912 345 678").proves(KEY, 5, phone)
    assert not bi.value_probe(KEY, bi.ID_NUMBER, "0912345678").proves(KEY, 5, phone)


def test_tags_do_not_depend_on_the_row_but_proofs_do():
    a, b = _token("full_name", 1, "Lan"), _token("full_name", 2, "Lan")
    assert a.tag == b.tag and a.proof != b.proof and a.proof_exact != b.proof_exact


def test_tags_are_truncated_so_many_words_share_each():
    """CipherSweet's truncation: 2,000 different words over 256 name tags, so each tag's count
    is a sum over several words and never a word's exact frequency."""
    words = [f"tu{i}" for i in range(2000)]
    tags = Counter(bi.tag(KEY, bi.NAME, w) for w in words)
    assert max(tags) < 2 ** bi.TAG_BITS[bi.NAME] == 256
    assert len(tags) == 256
    assert sum(n >= 2 for n in tags.values()) / 256 > 0.95  # (Poisson, mean 7.8: ~99.6 %)
    phones = Counter(bi.tag(KEY, bi.PHONE, f"09{i:08d}") for i in range(20000))
    assert max(phones) < 4096 and sum(phones.values()) / len(phones) > 4


def test_phone_and_id_number_normalize():
    assert bi.normalize_phone("+84 912 345 678") == "0912345678"
    assert bi.normalize_phone("0084 912.345.678") == "0912345678"
    assert bi.normalize_id_number("037-123.456 789") == "037123456789"
    assert bi.normalize_id_number("b 1234567") == "B1234567"
    assert bi.value_probe(KEY, bi.PHONE, "không có") is None
    assert bi.tokens_for(KEY, "phone", 1, "--") == []


def test_kinds_are_domain_separated():
    assert bi.proof(KEY, "phone", 1, "0912345678") != bi.proof(KEY, "id_number", 1, "0912345678")
    assert bi.proof(KEY, "full_name", 1, "hoa") != bi.proof(KEY, "full_name", 1, "hoa", exact=True)


def test_macs_are_hmac_sha256_under_the_index_key_only(app, key_file, monkeypatch, tmp_path):
    ring = keyring()
    assert ring.index_key != ring.audit_key
    assert ring.index_key not in ring.master_keys.values()
    message = bi._encode("caunoi-search-proof", 1, "cases", "full_name", 9, "folded", "hoa")
    expected = hmac.new(ring.index_key, message, hashlib.sha256).digest()[:16]
    assert bi.proof(ring.index_key, "full_name", 9, "hoa") == expected
    other = tmp_path / "another-key-set.json"
    write_key_file(other, Keyring.generate())
    monkeypatch.setitem(app.config, "CAUNOI_KEY_FILE", str(other))
    assert bi.proof(keyring().index_key, "full_name", 9, "hoa") != expected


def test_indexes_survive_master_key_rotation(app, key_file):
    from app.crypto.rotation import rotate_master_key
    from app.permissions import Actor

    before = keyring().index_key
    rotate_master_key(Actor.system("cli"), app.config)
    assert keyring().current_master_version == 2
    assert keyring().index_key == before


@given(st.text())
def test_normalize_and_fold_are_idempotent(value):
    assert bi.normalize(bi.normalize(value)) == bi.normalize(value)
    assert bi.fold_diacritics(bi.fold_diacritics(value)) == bi.fold_diacritics(value)
