"""The publishing step (fundapp.privacy): known names, phone, ID and bank-card numbers and flats never
survive it, in whatever form people type them; ordinary text, dates and amounts do."""
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from fundapp.privacy import Publisher, mask_name, publish, redact
from tests.written_numbers import digits, grouped

FULL_WIDTH = str.maketrans("0123456789+-()Xx ", "０１２３４５６７８９＋－（）ＸＸ\u3000")

surnames = st.sampled_from("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗欧阳司马")
given_chars = st.text(alphabet="小明华红建国伟芳娟敏静丽强磊军洋勇艳杰娜涛超秀英", min_size=1, max_size=2)
names = st.builds(lambda s, g: s + g, surnames, given_chars)
filler = st.text(alphabet="我们反对购买器材社区的项目希望能尽快答复谢谢请联系在此提出意见，。；！", min_size=0, max_size=12)


separators = st.sampled_from(["", " ", "-", "－", "\u3000"])
mobiles = st.builds(lambda prefix, second, rest, sep: prefix + grouped("1" + second + rest, [3, 4, 4], sep),
                    st.sampled_from(["", "+86", "+86 ", "86-", "0086 ", "(+86)"]), st.sampled_from("3456789"),
                    digits(9), separators)
landlines = st.builds(lambda area, local, sep: grouped(area, [len(area)], "") + sep + grouped(local, [4, 4], sep),
                      st.sampled_from(["010", "021", "0431", "0755"]),
                      st.builds(lambda first, rest: first + rest, st.sampled_from("23456789"), digits(7)),
                      st.sampled_from(["-", " ", ""]))
ids = st.builds(lambda body, last, sep: grouped(body + last, [6, 8], sep), digits(17),
                st.sampled_from(list("0123456789Xx")), st.sampled_from(["", " "]))
old_ids = digits(15)
cards = st.builds(lambda first, rest, sep: grouped(first + rest, [4, 4, 4, 4], sep), st.sampled_from("3456"),
                  st.integers(15, 18).flatmap(digits), separators)
numbers = st.one_of(mobiles, landlines, ids, old_ids, cards)


def only_digits(text):
    return re.sub(r"[^0-9Xx]", "", text.translate(str.maketrans("０１２３４５６７８９ＸＸ", "0123456789XX")))


@settings(max_examples=30, deadline=None)
@given(name=names, number=numbers, wide=st.booleans(), spaced=st.booleans(), before=filler, between=filler,
       after=filler)
def test_no_known_name_or_number_survives(name, number, wide, spaced, before, between, after):
    written_name = " ".join(name) if spaced else name
    written_number = number.translate(FULL_WIDTH) if wide else number
    text = f"{before}我是{written_name}{between}电话{written_number}，{after}"
    out = publish(text, names=[name])
    assert name not in out.replace(" ", "")
    assert only_digits(number) not in only_digits(out)
    # nothing but the matches changed: the resident's words are still there
    assert before in out and after in out


@settings(max_examples=25, deadline=None)
@given(number=numbers, wide=st.booleans(), word=st.sampled_from(["", "联系", "他的是", "号"]))
def test_numbers_without_a_label_are_removed_too(number, wide, word):
    text = f"请联系我{word}{number.translate(FULL_WIDTH) if wide else number}谢谢"
    assert only_digits(number) not in only_digits(redact(text))


def test_the_issue_example():
    out = publish("我是王小明，电话13812345678，反对购买器材", names=["王小明"])
    assert out == "我是王**，电话***，反对购买器材"


def test_addresses_are_kept_down_to_the_building():
    assert redact("我住幸福小区3栋2单元501室，楼下很吵") == "我住幸福小区3栋，楼下很吵"
    assert redact("5号楼1单元302的电梯坏了") == "5号楼的电梯坏了"
    assert redact("三栋二单元五零一室") == "三栋"
    assert "501" not in redact("幸福小区3-2-501门口")
    assert "501" not in redact("住在2单元501室")


def test_ordinary_text_dates_and_amounts_stay():
    text = "2026年12月2日（2026-12-02）购买器材12,345.00元，受益300人，共3栋楼，发票号码后四位1234。"
    assert redact(text) == text


def test_the_original_punctuation_is_kept_around_a_full_width_number():
    assert redact("电话：１３８１２３４５６７８。") == "电话：***。"


def test_single_characters_and_blank_names_are_not_masked_everywhere():
    publisher = Publisher(["王", "", None, "  "])
    assert publisher.text("王府井大街") == "王府井大街"
    assert publisher.name("王小明") == mask_name("王小明") == "王**"


def test_known_contacts_and_email_addresses_do_not_survive():
    out = publish("加我微信 wx_wangxm88 或写信 wang.xm@example.com，电话 138-0000-0000", names=["wx_wangxm88"])
    assert "wangxm88" not in out and "example.com" not in out and "0000" not in out
