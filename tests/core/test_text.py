from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from pingan.core.text import normalize_prose, normalize_text


def test_prose_keeps_its_lines_and_chinese_punctuation():
    typed = "1. 第一行：车辆占道\r\n2. 第二行，已拍照！\n\n\n\n3.  第三行（东侧）  ＡＢ１２\t结束  "
    assert normalize_prose(typed) == "1. 第一行：车辆占道\n2. 第二行，已拍照！\n\n3. 第三行（东侧） AB12 结束"
    assert normalize_prose("标题：人行道\n无证摊贩", multiline=False) == "标题：人行道 无证摊贩"
    assert normalize_prose("a\x00b\u3000c\x07") == "a b c"
    # identifiers, names and addresses keep the full NFKC folding
    assert normalize_text("滨海路（东段）\n１８号") == "滨海路(东段) 18号"


@given(st.text())
def test_prose_is_stable_and_clean(text):
    once = normalize_prose(text)
    assert normalize_prose(once) == once
    assert once == once.strip() and "\n\n\n" not in once and "\r" not in once
    assert all(ch == "\n" or unicodedata.category(ch) != "Cc" for ch in once)  # no NUL, no tabs
    single = normalize_prose(text, multiline=False)
    assert "\n" not in single and normalize_prose(single, multiline=False) == single
