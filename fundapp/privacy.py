"""What may be shown to the public about private persons: the one publishing step.

Every text that reaches a public page, the open data (JSON, CSV) or a public paper (notices, the year-end
poster) goes through `Publisher` (or `publish`, for one text):

- the names of the private persons the record knows (objectors, residents whose needs were registered,
  recipients paid without an invoice, private contractors: the caller passes them, gathered by a selector,
  e.g. `approvals.publishing.known_names`) are masked wherever they stand in the text (王小明 → 王**), also
  written with spaces between the characters or in full-width forms;
- e-mail addresses, phone numbers (mobiles with or without +86 / 0086, landlines with an area code, 400/800 numbers, any
  number written after 电话/手机/联系方式/tel), resident ID numbers (15 or 18 characters, X), and bank-card
  numbers (16–19 digits), written with spaces, dashes, dots or full-width digits, are replaced by ***;
- an address is kept down to the building: 幸福小区3栋2单元501室 → 幸福小区3栋, 5号楼1单元302 → 5号楼; a unit
  or room without its building becomes ***.

Detection runs on a copy normalised character by character (NFKC: full-width digits and symbols become
ASCII; dashes and zero-width characters become plain separators) that keeps every character's position, so
what is published is the original text, punctuation and all, with only the matches replaced.

Not caught, by design: a name the record does not know (a neighbour named only in the text) — which is why
a resident's text is also reviewed by the community's secretary (approvals.services.resident_text_publish)
— and a given name without its surname (小明: too many ordinary words would go with it).
"""
import re
import unicodedata

MARK = "***"

# Characters that separate the digits of a number as people write them; after normalisation.
_SEP = r"[ \-.]"
_S = _SEP + "?"
_CJK_NUM = "0-9一二三四五六七八九十百零〇两"

# Dashes, zero-width characters and other spaces that NFKC leaves alone, mapped to a plain separator.
_TO_SEPARATOR = {ord(c): " " for c in "\u200b\u200c\u200d\u2060\ufeff\u00ad\t\r\n\u3000\u00a0"}
_TO_SEPARATOR.update({ord(c): "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d\u30fc"})

# Resident ID (15, or 18 with a final X) and bank-card (16–19 digits) numbers: runs of digits in groups of
# three or more, separated by single spaces, dashes or dots (a date's 12-02 is not such a group), counted
# by `_long_numbers`.
_DIGIT_RUN = re.compile(r"(?<![0-9])[0-9]{3,}(?:" + _SEP + r"[0-9]{3,})*(?:" + _S + r"[Xx](?![A-Za-z]))?(?![0-9])")
_NUMBERS = re.compile(
    # mobiles: 1[3-9]x xxxx xxxx, with +86 / 0086 / 86 / (+86) before it
    r"(?<![0-9])(?:(?:\((?:\+|00)?86\)|(?:\+|00)?86)" + _S + r")?(?:\(1[3-9][0-9]\)|1[3-9][0-9])(?:" + _S
    + r"[0-9]){8}(?![0-9])"
    # landlines with an area code: 0431-8888 8888, (010) 1234-5678; 400/800 numbers
    r"|(?<![0-9])(?:\(0[1-9][0-9]{1,2}\)|0[1-9][0-9]{1,2})" + _S + r"[1-9][0-9]{2,3}" + _S + r"[0-9]{4}(?![0-9])"
    r"|(?<![0-9])[48]00" + _S + r"[0-9]{3}" + _S + r"[0-9]{4}(?![0-9])"
)
# Any number written after a word that says it is one: 电话 8888 8888, 手机：138…, tel. 12345.
_LABELLED_NUMBER = re.compile(
    r"(?P<label>(?:电话|手机|座机|联系方式|联系电话|号码|身份证|卡号|账号|tel|phone|mobile)[号:：\s.]{0,3})"
    r"(?P<number>[0-9+(][0-9()" + r" \-." + r"]{3,}[0-9])", re.IGNORECASE)

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")

_NUM = "[" + _CJK_NUM + "A-Za-z]{1,5}"
_ROOM_NOT_FOLLOWED = r"(?![0-9年月日元万人个次天号%.])"
_UNIT_PART = _S + _NUM + r"(?:单元|门|层|楼|室|户|号)"
_ADDRESS = re.compile(
    # a building, then its unit / floor / room: keep the building
    r"(?P<building>(?<![0-9])[" + _CJK_NUM + r"A-Za-z]{1,5}(?:号楼|栋|幢|座))"
    r"(?P<rest>(?:" + _UNIT_PART + r")+(?:" + _S + r"[0-9]{2,4}" + _ROOM_NOT_FOLLOWED + r")?"
    r"|" + _S + r"[0-9]{3,4}" + _ROOM_NOT_FOLLOWED + r")"
    # a unit or a room without its building
    r"|(?P<alone>(?<![0-9A-Za-z])[" + _CJK_NUM + r"]{1,3}单元(?:" + _UNIT_PART + r")*(?:" + _S + r"[0-9]{2,4}"
    + _ROOM_NOT_FOLLOWED + r")?|(?<![0-9])[0-9]{3,4}(?:室|户))"
    # building-unit-room written with dashes after a place name: 幸福小区3-2-501
    r"|(?<=[\u4e00-\u9fff])(?P<dashed_building>[0-9]{1,3})(?P<dashed_rest>-[0-9]{1,2}-[0-9]{3,4})(?![0-9])"
)


# What an organisation's name ends or is made of (公司, 维修部, 服务中心, 合作社…): such a party is not a person.
_ORGANISATION = re.compile(r"公司|中心|部|店|社|厂|所|院|站|队|会|行|局|处|委|室|馆|园|坊|铺|场|团|组|校|家政|物业|工作|服务|有限|集团")


def looks_like_a_person(name):
    """Whether a contractor or payee is a private person (two to four Chinese characters, nothing that
    names an organisation): such a name is masked like a resident's."""
    name = (name or "").strip()
    return bool(re.fullmatch(r"[\u4e00-\u9fff·]{2,4}", name)) and not _ORGANISATION.search(name)


def mask_name(name):
    """张三丰 → 张**; a private person's name is never shown whole to the public."""
    name = (name or "").strip()
    if not name:
        return ""
    return name[0] + "*" * max(len(name) - 1, 1)


def _normalised(text):
    """The text for detection: each character NFKC-normalised where that gives one character (full-width
    digits and symbols → ASCII), separators made plain; same length as `text`, position for position."""
    out = []
    for ch in text:
        n = unicodedata.normalize("NFKC", ch)
        out.append(n if len(n) == 1 else ch)
    return "".join(out).translate(_TO_SEPARATOR)


def _name_pattern(names):
    """One pattern for all the names (longest first), each allowed spaces or separators between its
    characters, matched on the normalised text."""
    parts = []
    for name in sorted({_normalised(n.strip()) for n in names if n and len(n.strip()) >= 2}, key=len, reverse=True):
        chars = [re.escape(ch) for ch in name if not ch.isspace()]
        if len(chars) >= 2:
            parts.append(r"[ \-]?".join(chars))
    if not parts:
        return None
    return re.compile("|".join(parts), re.IGNORECASE)


class Publisher:
    """The publishing step for one record (a community's page, a notice): built once with the names the
    record knows, then applied to each text (`text`) and each name (`name`) that goes out."""

    def __init__(self, names=()):
        self.names = _name_pattern(names)

    def text(self, value):
        """`value` as it may be published: known names masked, numbers and flats removed."""
        if value is None:
            return ""
        original = str(value)
        if not original:
            return original
        work = _Aligned(original)
        work.sub(_EMAIL, None)
        work.sub(_LABELLED_NUMBER, None, group="number")
        work.sub(_DIGIT_RUN, _long_numbers)
        work.sub(_NUMBERS, None)
        if self.names is not None:  # after the numbers: a known contact that is a phone number is *** already
            work.sub(self.names, lambda m, orig: orig[0] + "*" * max(len(re.sub(r"[ \-]", "", m.group())) - 1, 1))
        work.sub(_ADDRESS, _address)
        return work.original

    __call__ = text

    @staticmethod
    def name(value):
        """A private person's name as the public may read it (张**)."""
        return mask_name(value)


def _long_number(tokens):
    """Whether these tokens (digit groups, separators, a final X) are one ID or bank-card number: 15–19 digits,
    written whole or in groups of 4, 6 or 8 (the last group shorter) with one kind of separator."""
    groups = [t for t in tokens if t[0].isdigit()]
    separators = {t for t in tokens if not t[0].isdigit() and t not in "Xx"}
    digits = sum(len(g) for g in groups)
    if not 15 <= digits <= 19 or len(separators) > 1:
        return False
    return len(groups) == 1 or (all(len(g) in (4, 6, 8) for g in groups[:-1]) and len(groups[-1]) <= 8)


def _long_numbers(match, orig):
    """In a run of digit groups, each stretch of whole groups that is an ID (with its final X) or a bank-card
    number (`_long_number`), longest first, becomes ***; the other groups stay as written."""
    # tokens: digit groups, a final X, single separators — position for position with `orig`
    tokens = re.findall(r"[0-9]+|[Xx]|.", match.group())
    starts = [0]
    for token in tokens:
        starts.append(starts[-1] + len(token))
    out, i = [], 0
    while i < len(tokens):
        end = None
        if tokens[i][0].isdigit():
            for j in range(len(tokens) - 1, i - 1, -1):
                if (tokens[j][0].isdigit() or tokens[j] in "Xx") and _long_number(tokens[i:j + 1]):
                    end = j
                    break
        if end is None:
            out.append(orig[starts[i]:starts[i + 1]])
            i += 1
        else:
            out.append(MARK)
            i = end + 1
    return "".join(out)


def _address(match, orig):
    if match.group("building") is not None:
        return orig[:len(match.group("building"))]
    if match.group("dashed_building") is not None:
        return orig[:len(match.group("dashed_building"))] + "-" + MARK
    return MARK


class _Aligned:
    """The original text and its normalised copy, replaced in step so their positions stay aligned."""

    def __init__(self, original):
        self.original = original
        self.normal = _normalised(original)

    def sub(self, pattern, replace, group=0):
        pieces_o, pieces_n, last = [], [], 0
        for match in pattern.finditer(self.normal):
            start, end = match.span(group)
            orig = self.original[start:end]
            new = MARK if replace is None else replace(match, orig)
            pieces_o += [self.original[last:start], new]
            pieces_n += [self.normal[last:start], _normalised(new)]
            last = end
        if last:
            self.original = "".join(pieces_o) + self.original[last:]
            self.normal = "".join(pieces_n) + self.normal[last:]


def publish(text, names=()):
    """One text through the publishing step (see `Publisher`)."""
    return Publisher(names).text(text)


def redact(text):
    """Numbers and flats removed, no names known: for text with no record behind it."""
    return Publisher().text(text)
