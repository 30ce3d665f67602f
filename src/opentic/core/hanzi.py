"""Chinese text normalisation. No Django import.

The plan's reference tables reach us in Traditional characters, some followed by their pinyin in
parentheses (服務(wù)); the platform speaks Simplified. People also paste Traditional text into search
boxes. Both go through `to_simplified`, built on OpenCC's t2s conversion.
"""

from __future__ import annotations

import re
from functools import lru_cache

import opencc

# A pinyin annotation directly after a CJK character: "(wù)", "(guān)". Parentheses holding CJK text,
# such as 汽车(摩托车), are content and stay.
_PINYIN = re.compile(r"(?<=[\u3400-\u9fff])\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]{1,7}\)")


@lru_cache(maxsize=1)
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    if not text:
        return text
    return str(_converter().convert(_PINYIN.sub("", text)))
