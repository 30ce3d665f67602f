from opentic.core.hanzi import to_simplified


def test_pinyin_annotations_are_dropped_and_traditional_converted() -> None:
    assert to_simplified("國家檢驗檢測認證公共服務(wù)平臺示范區") == "国家检验检测认证公共服务平台示范区"


def test_parentheses_holding_text_are_content() -> None:
    assert to_simplified("汽車(chē)(摩托車(chē))檢驗檢測") == "汽车(摩托车)检验检测"
    assert to_simplified("source lists these districts (and others)") == "source lists these districts (and others)"


def test_search_words_in_traditional() -> None:
    assert to_simplified("鉛") == "铅"
