"""Reads the State Council's yearly notice (国务院办公厅关于XXXX年部分节假日安排的通知) as pasted by a person.

`parse_notice(text)` never raises. It reads only the numbered items ("一、元旦：…" … "十、…"); the preamble
(which may mention dates, e.g. "自2025年1月1日起") and the closing paragraphs are ignored. Within an item,
each sentence (up to 。) is read on its own:

- a sentence with 上班 gives make-up working days: every date in it;
- a sentence with 放假 or 补休 gives holidays: "M月D日至[M月]D日" ranges expand to every date, single dates
  count one day; a stated total ("共8天", "放假1天") must equal the number of days read;
- a sentence with both kinds is read clause by clause (at ，/；), each clause having one kind;
- a sentence with neither (the 2024 "鼓励各单位……安排职工在除夕（2月9日）休息") yields nothing. It stays in
  the item's text; if it has a date and is not such an encouragement (鼓励/提倡/倡导), it is unparsed.

A weekday in the parentheses after a date ("（星期日）", "（周二）", "（农历除夕、周二）") must be that date's
weekday. Anything that cannot be read for certain goes to `unparsed`, to be shown, never guessed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

# Full-width forms a Chinese input method or a web page may give, and the spaces a copy may carry.
_NORMALISE = str.maketrans(
    {
        **{chr(0xFF10 + i): str(i) for i in range(10)},
        ":": "：",
        "(": "（",
        ")": "）",
        ",": "，",
        ";": "；",
        "～": "至",
        "~": "至",
    }
)
# Whitespace other than line breaks (incl. U+3000 and NBSP), and the zero-width marks web pages carry.
_SPACE = re.compile(r"[^\S\n]+|[\u200b-\u200d\u2060\ufeff]")
_NUMERAL = "一二三四五六七八九十"
_ITEM = re.compile(rf"^([{_NUMERAL}]{{1,2}})、")
_ITEM_SHAPE = re.compile(rf"^([{_NUMERAL}]{{1,2}})、([^：，。；]{{1,20}})：(.+)$")
# An item starting in the middle of a line (a notice pasted as one paragraph).
_ITEM_INSIDE = re.compile(rf"(?<=。)(?=[{_NUMERAL}]{{1,2}}、[^：，。；]{{1,20}}：)")
_TITLE_YEAR = (
    re.compile(r"关于(\d{4})年[^。\n]{0,6}?节假日安排"),
    re.compile(r"(\d{4})年[^。\n]{0,6}?节假日安排"),
    re.compile(r"现将(\d{4})年"),
)
_DATE = re.compile(
    r"(?:(?P<year>\d{4})年)?(?:(?P<month>\d{1,2})月)?(?P<day>\d{1,2})日(?:（(?P<note>[^（）]{0,30})）)?"
)
_RANGE_WORDS = {"至", "到", "-", "—", "–", "－"}
_NOTE = re.compile(r"（[^（）]*）")
_CHINESE_DATE = re.compile(r"[〇零一二三四五六七八九十]+月[〇零一二三四五六七八九十]+日")
_WEEKDAY = re.compile(r"(?:星期|礼拜|周)([一二三四五六日天])")
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_TOTAL = re.compile(r"(?:共|放假)(\d{1,2})天")
_ENCOURAGEMENT = ("鼓励", "提倡", "倡导")
_ARRANGEMENT_WORDS = ("放假", "补休", "上班", "调休")
_MAX_RANGE = 31

HOLIDAY, WORKDAY = "holiday", "workday"


@dataclass(frozen=True)
class ParsedItem:
    number: str  # "六"
    festival: str  # "中秋节、国庆节"
    text: str  # the arrangement after "：", as read (whitespace removed, full-width digits made plain)
    holidays: tuple[date, ...]
    workdays: tuple[date, ...]


@dataclass(frozen=True)
class ParsedNotice:
    year: int | None
    items: tuple[ParsedItem, ...]
    holidays: tuple[date, ...]  # over all items, sorted, each date once
    workdays: tuple[date, ...]
    unparsed: tuple[str, ...]  # item lines or sentences that could not be read for certain

    @property
    def overrides(self) -> dict[date, bool]:
        """The notice as calendar overrides: a holiday is a rest day (False), a make-up day a working day."""
        result = {day: False for day in self.holidays}
        result.update({day: True for day in self.workdays})
        return dict(sorted(result.items()))

    @property
    def ok(self) -> bool:
        return self.year is not None and bool(self.items) and not self.unparsed


class _Unreadable(Exception):
    pass


def _normalise(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_NORMALISE)
    return _SPACE.sub("", text)


def _find_year(text: str) -> int | None:
    for pattern in _TITLE_YEAR:
        match = pattern.search(text)
        if match:
            year = int(match.group(1))
            # The calendar's range (workdays.models.FIRST_DAY/LAST_DAY); a notice is never outside it.
            return year if 1900 <= year <= 2200 else None
    return None


def _dates(sentence: str, year: int | None) -> list[tuple[date, date]]:
    """The dates of a sentence as (first, last) spans, in order; a single date is (d, d)."""
    spans: list[tuple[date, date]] = []
    month = None
    previous_end = None
    for match in _DATE.finditer(sentence):
        if year is None and not match.group("year"):
            raise _Unreadable
        if match.group("month"):
            month = int(match.group("month"))
        elif month is None:
            raise _Unreadable  # "3日" with no month before it
        the_year = int(match.group("year")) if match.group("year") else year
        if match.group("year") and not match.group("month"):
            raise _Unreadable
        try:
            day = date(the_year, month, int(match.group("day")))
        except ValueError:
            raise _Unreadable from None
        note = match.group("note") or ""
        weekday = _WEEKDAY.search(note)
        if weekday and _WEEKDAYS[weekday.group(1)] != day.weekday():
            raise _Unreadable
        between = sentence[previous_end:match.start()] if previous_end is not None else None
        if between in _RANGE_WORDS:
            start = spans[-1][0]
            if spans[-1][0] != spans[-1][1] or not 0 < (day - start).days < _MAX_RANGE:
                raise _Unreadable
            spans[-1] = (start, day)
        else:
            spans.append((day, day))
        previous_end = match.end()
    return spans


def _every_day(spans: list[tuple[date, date]]) -> list[date]:
    return [first + timedelta(days=i) for first, last in spans for i in range((last - first).days + 1)]


def _kind(text: str) -> str | None:
    work = "上班" in text
    rest = "放假" in text or "补休" in text
    if work and rest:
        return "both"
    return WORKDAY if work else HOLIDAY if rest else None


def _read_clause(clause: str, kind: str, year: int | None) -> list[date]:
    days = _every_day(_dates(clause, year))
    if kind == HOLIDAY:
        total = _TOTAL.search(clause)
        if total and int(total.group(1)) != len(days):
            raise _Unreadable
    return days


def _read_sentence(sentence: str, year: int | None) -> tuple[list[date], list[date]]:
    """(holidays, workdays) of one sentence; raises _Unreadable when it cannot be read for certain."""
    if _CHINESE_DATE.search(_NOTE.sub("", sentence)):
        raise _Unreadable  # "十月一日" in words: not read, so not silently dropped either
    kind = _kind(sentence)
    if kind is None:
        has_date = bool(_DATE.search(sentence))
        if has_date and not sentence.startswith(_ENCOURAGEMENT):
            raise _Unreadable
        return [], []
    if kind != "both":
        days = _read_clause(sentence, kind, year)
        return (days, []) if kind == HOLIDAY else ([], days)
    holidays, workdays = [], []
    for clause in re.split(r"[，；]", sentence):
        clause_kind = _kind(clause)
        if clause_kind is None:
            if _DATE.search(clause):
                raise _Unreadable  # whose dates? not guessed
            continue
        if clause_kind == "both":
            raise _Unreadable
        days = _read_clause(clause, clause_kind, year)
        (holidays if clause_kind == HOLIDAY else workdays).extend(days)
    return holidays, workdays


def _sentences(text: str) -> list[str]:
    return [part + "。" for part in text.split("。") if part]


def parse_notice(text: str) -> ParsedNotice:
    """The holidays and make-up working days of a pasted State Council notice; see the module docstring."""
    if not isinstance(text, str):
        return ParsedNotice(None, (), (), (), ())
    text = _ITEM_INSIDE.sub("\n", _normalise(text))
    year = _find_year(text)
    items: list[ParsedItem] = []
    unparsed: list[str] = []
    seen_item = False
    for line in text.split("\n"):
        if not line:
            continue
        if not _ITEM.match(line):
            # After the first item, an unnumbered line that arranges dates (an item broken over two
            # lines) would be lost: show it instead. The signature's date has no arrangement word.
            if seen_item and _DATE.search(line) and any(word in line for word in _ARRANGEMENT_WORDS):
                unparsed.append(line)
            continue
        seen_item = True
        shape = _ITEM_SHAPE.match(line)
        if not shape:
            unparsed.append(line)
            continue
        number, festival, body = shape.groups()
        holidays: list[date] = []
        workdays: list[date] = []
        for sentence in _sentences(body):
            try:
                sentence_holidays, sentence_workdays = _read_sentence(sentence, year)
            except _Unreadable:
                unparsed.append(sentence)
                continue
            holidays.extend(sentence_holidays)
            workdays.extend(sentence_workdays)
        if not holidays:
            unparsed.append(line)  # every arrangement gives at least one holiday
        items.append(ParsedItem(number, festival, body, tuple(sorted(set(holidays))), tuple(sorted(set(workdays)))))
    all_holidays = sorted({day for item in items for day in item.holidays})
    all_workdays = sorted({day for item in items for day in item.workdays})
    conflicts = set(all_holidays) & set(all_workdays)
    if conflicts:
        # A date both a holiday and a make-up working day: show the items that say so.
        unparsed.extend(
            item.text for item in items if conflicts & (set(item.holidays) | set(item.workdays))
        )
    return ParsedNotice(year, tuple(items), tuple(all_holidays), tuple(all_workdays), tuple(unparsed))
