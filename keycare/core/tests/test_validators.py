import pytest
from django.core.exceptions import ValidationError

from keycare.core.search import search_q, search_text
from keycare.core.validators import credit_code_check_char, validate_credit_code, validate_mobile

VALID_CODES = [
    "914403001922038216",  # 华为技术有限公司
    "9144030071526726XG",  # 深圳市腾讯计算机系统有限公司
    "91330100799655058B",  # 阿里巴巴（中国）有限公司
    "91350100M000100Y43",  # the example in GB 32100-2015
    " 91330100799655058b ",  # spaces and lower case are normalised
]


@pytest.mark.parametrize("code", VALID_CODES)
def test_valid_credit_codes(code):
    validate_credit_code(code)


@pytest.mark.parametrize(
    ("code", "error_code"),
    [
        ("91440300192203821", "credit_code_length"),  # 17 characters
        ("9144030019220382161", "credit_code_length"),
        ("91440300192203821I", "credit_code_characters"),  # I is not used
        ("91440A001922038216", "credit_code_characters"),  # area code must be digits
        ("0144030019220382160", "credit_code_length"),
        ("Z14403001922038216", "credit_code_characters"),
        ("B14403001922038216", "credit_code_category"),  # no such authority
        ("914403001922038217", "credit_code_check"),  # wrong check character
        ("9144030071526726XH", "credit_code_check"),
    ],
)
def test_invalid_credit_codes(code, error_code):
    with pytest.raises(ValidationError) as exc:
        validate_credit_code(code)
    assert exc.value.code == error_code


def test_check_character_message_names_the_expected_character():
    with pytest.raises(ValidationError) as exc:
        validate_credit_code("914403001922038217")
    assert exc.value.params == {"expected": "6"}
    assert credit_code_check_char("91440300192203821") == "6"


@pytest.mark.parametrize(
    "number",
    [
        "13800138000",
        "138 0013 8000",
        "+86 138-0013-8000",
        "008613800138000",
        "+49 30 1234567",
        "+1 (415) 555-0100",
        "",
    ],
)
def test_valid_mobiles(number):
    validate_mobile(number)


@pytest.mark.parametrize(
    "number",
    ["12800138000", "1380013800", "138001380001", "+86 12800138000", "abc", "021-12345678"],
)
def test_invalid_mobiles(number):
    with pytest.raises(ValidationError):
        validate_mobile(number)


def test_pinyin_search_text():
    text = search_text("中国电信股份有限公司", "中国电信", "China Telecom")
    for query in ("zgdx", "zhongguodianxin", "中国电信", "China Telecom", "ZGDX", "zhong guo"):
        q = search_q(query)
        needle = next(iter(q.children))[1]
        assert needle in text, query
    assert next(iter(search_q("zgdz").children))[1] not in text
