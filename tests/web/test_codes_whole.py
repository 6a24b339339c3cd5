"""Codes inside sentences stay on one line, and the sentence around them stays escaped."""

from app.web.templating import keep_codes_whole


def test_codes_are_kept_whole_and_the_rest_escaped():
    html = keep_codes_whole("Hồ sơ NB-2026-00042 <b>quá hạn</b>, chuyển gửi CG-7QK3-M2XD")
    assert '<span class="mono">NB-2026-00042</span>' in html
    assert '<span class="mono">CG-7QK3-M2XD</span>' in html
    assert "<b>" not in html and "&lt;b&gt;" in html


def test_text_without_codes_is_only_escaped():
    assert keep_codes_whole("a < b") == "a &lt; b"
    assert keep_codes_whole(None) == ""
