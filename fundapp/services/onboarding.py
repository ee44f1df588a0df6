"""Setting up the city from Excel: the roster workbook (subdistricts, communities, people and their posts).

One workbook, three sheets a clerk fills from the organisation department's lists — 街道, 社区, 人员与任职 —
and a fourth, 说明, that explains every column. `template_workbook()` writes it with a header row and one
example row per sheet (the example row may stay: a row equal to it is skipped).

`onboarding_plan(read_workbook(data))` is the dry run: it reads every row, checks it against the sheet and
the database (prefetched by code and username in a few queries) and says for each row new / updated /
unchanged / error, with every error's row, column and what is wrong. It writes nothing.
`onboarding_apply` plans again and, when there is no error and the plan is the one the person saw
(its fingerprint), performs it in one transaction through the audited services of fundapp.services.org
and fundapp.services.accounts; any refusal undoes everything.

Matching: subdistricts and communities by code (codes never change once set), people by username, posts by
(username, role, community or subdistrict, start date). A blank optional cell keeps what is recorded (so a
re-import of an old sheet never reopens a term ended since, nor clears a phone number); the import never
deletes anything: a term ends by filling its end date.

New accounts get no usable password: the person cannot log in until the operator sets a first password in
the back office (docs/guide/city_admin.*.md, "Setting up the city from Excel"): the operator's duty, as
before; an email address on the roster is kept for notifications.
"""
import datetime
import hashlib
import io
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import slug_re, validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, override, pgettext_lazy

from .. import rights
from ..db import retry_on_conflict
from ..errors import Conflict, DomainError, NotAllowed
from ..i18n import long_date
from ..models import Community, Post, Role, Subdistrict
from ..publicurls import segments
from ..tabular import xlsx_cell
from . import accounts, org

MAX_BYTES = 5 * 1024 * 1024
# Rows in one import: the apply runs in the web request, and 10,000 rows apply in about 10-20 seconds (measured on
# PostgreSQL, a busy two-core machine), inside gunicorn's 30-second timeout; a bigger city imports in parts.
MAX_ROWS = 10_000
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TEMPLATE_FILENAME = "全市名册导入模板.xlsx"
TOKEN_MAX_AGE = 24 * 3600  # seconds an uploaded workbook waits for its apply

STATUS_NEW, STATUS_UPDATED, STATUS_UNCHANGED, STATUS_ERROR = "new", "updated", "unchanged", "error"
STATUS_LABELS = {
    STATUS_NEW: gettext_lazy("新增"),
    STATUS_UPDATED: gettext_lazy("修改"),
    STATUS_UNCHANGED: gettext_lazy("不变"),
    STATUS_ERROR: gettext_lazy("有错误"),
}


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # as printed in the template and looked for in an upload (Chinese, never translated)
    required: bool
    help: str  # the 说明 sheet's explanation (Chinese, as the template)
    example: object = ""
    text: bool = True  # formatted as text in the template (codes and phone numbers keep leading zeros)


@dataclass(frozen=True)
class SheetSpec:
    kind: str
    title: str
    label: object
    columns: tuple

    @property
    def example(self):
        return {c.key: _normal(c.example) for c in self.columns}


SUBDISTRICTS = SheetSpec("subdistricts", "街道", pgettext_lazy("roster sheet", "街道"), (
    Column("code", "街道代码", True, "街道的唯一代码：小写字母、数字、连字符，如 dongcheng。一经设立不能修改，"
           "再次导入时按代码找到该街道。", "dongcheng"),
    Column("name", "街道名称", True, "街道全称，全市不能重复。", "东城街道"),
    Column("party_committee_name", "党工委名称", False, "街道党工委的全称，印在审批材料上；新街道留空时为“街道名称＋党工委”，"
           "已有街道留空则不修改。", "东城街道党工委"),
    Column("construction_committee_name", "建管委名称", False, "社区建设管理委员会的全称；新街道留空时为“街道名称＋建管委”，"
           "已有街道留空则不修改。", "东城街道社区建设管理委员会"),
))
COMMUNITIES = SheetSpec("communities", "社区", pgettext_lazy("roster sheet", "社区"), (
    Column("subdistrict", "街道代码", True, "社区所属街道的代码：本工作簿“街道”表中的或系统中已有的街道。社区设立后不能改属其他街道。",
           "dongcheng"),
    Column("code", "社区代码", True, "社区的唯一代码：小写字母、数字、连字符，如 dc-heping。它出现在公开网址和公示二维码中，"
           "一经设立不能修改；再次导入时按代码找到该社区。", "dc-heping"),
    Column("name", "社区名称", True, "社区全称，全市不能重复。", "和平社区"),
    Column("phone", "联系电话", False, "社区便民服务大厅的电话，印在公示上供居民反映意见；留空则不修改。", "0571-88880001"),
    Column("address", "地址", False, "社区便民服务大厅的地址，印在公示上；留空则不修改。", "和平路1号"),
))
PEOPLE = SheetSpec("people", "人员与任职", pgettext_lazy("roster sheet", "人员与任职"), (
    Column("username", "用户名", True, "登录用的用户名：字母、数字和 @ . + - _，全市唯一；再次导入时按用户名找到此人。"
           "一人担任多个职务时，每个职务一行，用户名相同。", "zhangsan"),
    Column("full_name", "姓名", True, "真实姓名，印在签名处和审计记录中。一人多个职务时填在其中一行即可；已有用户留空则不修改。", "张三"),
    Column("email", "电子邮箱", False, "接收通知的邮箱，可留空；已有用户留空则不修改。", "zhangsan@example.org"),
    Column("role", "职务", False, "职务名称，须为：" + "、".join(str(label) for _v, label in Role.choices)
           + "。只建立账号、不任职时，职务及以后各列留空。", "社区党委书记"),
    Column("community", "社区代码", False, "社区职务（社区党委书记、社区工作者、社区议事监督委员会成员）填所在社区的代码。",
           "dc-heping"),
    Column("subdistrict", "街道代码", False, "街道职务（社区党工委书记、社区建设管理委员会主任、党工委工作人员、党工委财务管理人员）"
           "填所在街道的代码；社区职务可留空。", ""),
    Column("start_date", "任职起始日", False, "任职的第一天，如 2026-01-01。任职时必填；同一人、同一职务、同一单位、同一起始日为同一任职。",
           datetime.date(2026, 1, 1), text=False),
    Column("end_date", "任职终止日", False, "自该日起不再任职（不含当日权限）；在任留空。填写即结束该任职；留空不会重新启用已结束的任职。",
           "", text=False),
    Column("acting", "代理", False, "代理任职填“是”，签名处职务后印“（代）”；否则填“否”或留空。", "否"),
))
SHEETS = (SUBDISTRICTS, COMMUNITIES, PEOPLE)
NOTES_TITLE = "说明"


def sheet_names():
    """The roster's sheets as a clerk sees them in the workbook: “街道”“社区”“人员与任职”."""
    return "".join(f"“{spec.title}”" for spec in SHEETS)

ROLE_SCOPE_HINT = {
    "community": gettext_lazy("社区职务须填写社区代码。"),
    "subdistrict": gettext_lazy("街道职务须填写街道代码。"),
}


class ImportRefused(DomainError):
    """The file cannot be read as the roster workbook (not xlsx, too big, formulas, wrong headers)."""

    code = "import_refused"

    def __init__(self, message, problems=()):
        super().__init__(message)
        self.problems = list(problems)


# --- reading ---------------------------------------------------------------------------------------------

@dataclass
class Record:
    row: int
    values: dict
    columns: dict  # key → (letter, header)


@dataclass
class Workbook:
    sheets: dict  # kind → [Record]
    sha256: str


def _normal(value):
    """A cell's value as the planner reads it: text stripped, whole numbers as text, dates as dates."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        # A date typed in Excel: openpyxl reads it as a naive midnight (a workbook has no time zone), so its
        # date is the day the clerk typed, not a UTC moment.
        return value.date() if value.time() == datetime.time() else value
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, datetime.date):
        return value
    return str(value).strip()


def _text(value):
    return value.isoformat() if isinstance(value, datetime.date) else str(value or "").strip()


def _letter(index):
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def _header_text(value):
    return re.sub(r"[\s*＊]|（必填）|\(必填\)", "", str(value or ""))


def read_workbook(data):
    """The roster workbook's rows by sheet, or ImportRefused with what is wrong with the file."""
    import openpyxl

    if len(data) > MAX_BYTES:
        raise ImportRefused(_("文件太大：最大 %(mb)s MB。请分几次导入。") % {"mb": MAX_BYTES // (1024 * 1024)})
    if not data[:4] == b"PK\x03\x04":
        raise ImportRefused(_("这不是 Excel 工作簿（.xlsx）。请用下载的模板填写，并以 .xlsx 格式保存（不要用 .xls 或 .csv）。"))
    unreadable = _("无法读取这个 Excel 工作簿，文件可能已损坏或不是 .xlsx 格式。")
    # An uploaded file's parser fails in many ways (zip, XML, openpyxl's own): each is the same answer.
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # noqa: BLE001 - zip, XML or openpyxl: the file is not a workbook we can read
        raise ImportRefused(unreadable) from exc
    try:
        return Workbook(sheets=_read_sheets(workbook), sha256=hashlib.sha256(data).hexdigest())
    except ImportRefused:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged sheet found while reading it
        raise ImportRefused(unreadable) from exc
    finally:
        workbook.close()


def _read_sheets(workbook):
    sheets, problems, formulas, total = {}, [], [], 0
    for spec in SHEETS:
        if spec.title not in workbook.sheetnames:
            continue
        rows = workbook[spec.title].iter_rows(min_row=1)
        header = next(rows, ())
        found = {}
        for index, cell in enumerate(header):
            text = _header_text(cell.value)
            for column in spec.columns:
                if text == column.header and column.key not in found:
                    found[column.key] = index
        missing = [c.header for c in spec.columns if c.required and c.key not in found]
        if missing:
            problems.append(_("“%(sheet)s”表第 1 行缺少列：%(columns)s。请使用下载的模板，不要修改表头。")
                            % {"sheet": spec.title, "columns": "、".join(missing)})
            continue
        columns = {key: (_letter(index), spec.columns[[c.key for c in spec.columns].index(key)].header)
                   for key, index in found.items()}
        example = spec.example
        records = []
        for number, cells in enumerate(rows, start=2):
            values = {}
            for key, index in found.items():
                cell = cells[index] if index < len(cells) else None
                if cell is not None and getattr(cell, "data_type", None) == "f":
                    formulas.append(_("“%(sheet)s”表第 %(row)s 行 %(column)s 列（%(header)s）")
                                    % {"sheet": spec.title, "row": number, "column": columns[key][0],
                                       "header": columns[key][1]})
                values[key] = _normal(cell.value if cell is not None else None)
            if not any(v != "" for v in values.values()):
                continue
            total += 1
            if total > MAX_ROWS:
                raise ImportRefused(_("行数太多：一次最多导入 %(n)s 行。请分几次导入。") % {"n": MAX_ROWS})
            if all(values.get(c.key, "") == example[c.key] for c in spec.columns):
                continue  # the template's example row, left in place
            for column in spec.columns:
                values.setdefault(column.key, "")
            records.append(Record(number, values, columns))
        sheets[spec.kind] = records
    if formulas:
        shown = formulas[:20]
        raise ImportRefused(
            _("工作簿中有公式，不能导入：请把这些单元格复制后“选择性粘贴为数值”，再上传。"),
            shown + ([_("……共 %(n)s 处") % {"n": len(formulas)}] if len(formulas) > len(shown) else []))
    if problems:
        raise ImportRefused(_("工作簿的表头不对。"), problems)
    if not sheets:
        raise ImportRefused(_("工作簿中没有%(sheets)s中的任何一张表。请使用下载的模板。") % {"sheets": sheet_names()})
    return sheets


# --- the template ----------------------------------------------------------------------------------------

def template_workbook():
    """The roster template as .xlsx bytes: one sheet per kind with its header and example row, and 说明."""
    import openpyxl
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill

    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    bold, grey = Font(bold=True), Font(italic=True, color="808080")
    fill = PatternFill("solid", fgColor="DDEBF7")
    for spec in SHEETS:
        ws = workbook.create_sheet(spec.title)
        for index, column in enumerate(spec.columns, start=1):
            cell = xlsx_cell(ws, 1, index, column.header)
            cell.font, cell.fill = bold, fill
            cell.comment = Comment(("必填。" if column.required else "选填。") + column.help, "模板")
            example = xlsx_cell(ws, 2, index, column.example if column.example != "" else None)
            example.font = grey
            letter = _letter(index - 1)
            ws.column_dimensions[letter].width = max(14, len(column.header) * 2 + 4)
            if column.text:
                ws.column_dimensions[letter].number_format = "@"
                example.number_format = "@"
            else:
                ws.column_dimensions[letter].number_format = "yyyy-mm-dd"
                example.number_format = "yyyy-mm-dd"
        ws.freeze_panes = "A2"
    notes = workbook.create_sheet(NOTES_TITLE)
    lines = [
        ("表", "列", "必填", "说明"),
        ("", "", "", "每张表第 1 行是表头，请勿修改；第 2 行是灰色的示例，可以删除或覆盖，保留不改时导入会跳过它。"
                     "从第 2 行起每行一条。先上传预览（不会写入任何内容），核对每一行的结果和错误后再确认导入；"
                     "导入要么全部完成，要么什么都不改。同一个工作簿再次导入不会有任何变化。"),
        ("", "", "", "空白的选填单元格表示“不修改系统中已记录的内容”；导入不会删除任何记录，结束任职请填写任职终止日。"),
        ("", "", "", "单元格不能是公式：请粘贴为数值。日期写作 2026-01-01，或设为 Excel 日期格式。"),
    ]
    for spec in SHEETS:
        for column in spec.columns:
            lines.append((spec.title, column.header, "是" if column.required else "否", column.help))
    for row, line in enumerate(lines, start=1):
        for col, value in enumerate(line, start=1):
            cell = xlsx_cell(notes, row, col, value)
            if row == 1:
                cell.font, cell.fill = bold, fill
    for letter, width in zip("ABCD", (12, 14, 6, 100)):
        notes.column_dimensions[letter].width = width
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# --- the dry run -----------------------------------------------------------------------------------------

@dataclass
class CellError:
    sheet: str
    row: int
    column: str  # letter, "" for the whole row
    header: str
    message: str


@dataclass
class RowResult:
    kind: str
    row: int
    key: str
    label: str
    status: str = STATUS_UNCHANGED
    changes: list = field(default_factory=list)  # [(header, before, after)]
    errors: list = field(default_factory=list)
    op: tuple = ()  # what the apply does: ("create", {...}) / ("update", obj, {...})

    @property
    def status_label(self):
        return STATUS_LABELS[self.status]


@dataclass
class Plan:
    rows: dict  # kind → [RowResult]
    sha256: str

    @property
    def errors(self):
        return [e for rows in self.rows.values() for r in rows for e in r.errors]

    def counts(self):
        """{kind: {status: n}} for the summary."""
        return {kind: {s: sum(1 for r in rows if r.status == s) for s in STATUS_LABELS}
                for kind, rows in self.rows.items()}

    @property
    def changed(self):
        return sum(1 for rows in self.rows.values() for r in rows if r.status in (STATUS_NEW, STATUS_UPDATED))

    @property
    def fingerprint(self):
        """What the apply will do, in a few hex digits: the file and every row's status and changes."""
        parts = [self.sha256]
        for kind, rows in self.rows.items():
            for r in rows:
                parts.append(f"{kind}|{r.row}|{r.status}|{[(str(h), str(b), str(a)) for h, b, a in r.changes]}")
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


class _Checker:
    def __init__(self, spec, record, result):
        self.spec, self.record, self.result = spec, record, result

    def error(self, key, message):
        letter, header = self.record.columns.get(key, ("", ""))
        if key and not header:
            header = next(c.header for c in self.spec.columns if c.key == key)
        self.result.errors.append(CellError(self.spec.title, self.record.row, letter, header, str(message)))
        self.result.status = STATUS_ERROR

    def text(self, key, max_length, *, required=False):
        value = self.record.values.get(key, "")
        if isinstance(value, (datetime.date, datetime.datetime)):
            value = value.isoformat()
        if required and value == "":
            self.error(key, _("必填，不能为空。"))
        elif len(value) > max_length:
            self.error(key, _("太长：最多 %(n)s 个字，现有 %(m)s 个。") % {"n": max_length, "m": len(value)})
        return value

    def code(self, key):
        value = self.text(key, 40, required=True)
        if value and not slug_re.match(value):
            self.error(key, _("代码“%(code)s”只能由字母、数字、连字符和下划线组成。") % {"code": value})
        return value

    def date(self, key):
        value = self.record.values.get(key, "")
        if value == "" or isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
            return value or None
        text = str(value)
        match = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?", text)
        if match:
            try:
                return datetime.date(*map(int, match.groups()))
            except ValueError:
                pass
        self.error(key, _("“%(value)s”不是日期：请写作 2026-01-01，或设为 Excel 日期格式。") % {"value": text})
        return None

    def acting(self, key):
        value = str(self.record.values.get(key, "")).lower()
        if value == "":
            return None
        if value in ("是", "代", "y", "yes", "true", "1"):
            return True
        if value in ("否", "n", "no", "false", "0"):
            return False
        self.error(key, _("请填“%(yes)s”或“%(no)s”，现为“%(value)s”。") % {"yes": "是", "no": "否", "value": value})
        return None


def _duplicate(seen, value, checker, key, what):
    if value in seen:
        checker.error(key, _("%(what)s“%(value)s”在本表第 %(row)s 行已出现过。")
                      % {"what": what, "value": value, "row": seen[value]})
        return True
    seen[value] = checker.record.row
    return False


def _compare(result, obj, changes, headers):
    """Fill result.changes and status for an existing object from {field: new value} (blank = keep)."""
    wanted = {}
    for name, value in changes.items():
        if value in ("", None):
            continue
        current = getattr(obj, name)
        if current != value:
            wanted[name] = value
            result.changes.append((headers[name], "" if current is None else current, value))
    if result.status != STATUS_ERROR:
        result.status = STATUS_UPDATED if wanted else STATUS_UNCHANGED
        result.op = ("update", obj, wanted) if wanted else ()


def _headers(spec):
    return {c.key: c.header for c in spec.columns}


def onboarding_plan(workbook):
    """The dry run: every row's result (new / updated / unchanged / error) and what the apply would do.
    Reads the database (a few queries), writes nothing."""
    sheets = workbook.sheets
    sd_rows, cm_rows, pp_rows = (sheets.get(s.kind, []) for s in SHEETS)

    sd_codes = {r.values["code"] for r in sd_rows} | {r.values["subdistrict"] for r in cm_rows + pp_rows}
    sd_names = {r.values["name"] for r in sd_rows}
    subdistricts = list(Subdistrict.objects.filter(Q(code__in=sd_codes - {""}) | Q(name__in=sd_names - {""})))
    cm_codes = {r.values["code"] for r in cm_rows} | {r.values["community"] for r in pp_rows}
    cm_names = {r.values["name"] for r in cm_rows}
    communities = list(Community.objects.filter(Q(code__in=cm_codes - {""}) | Q(name__in=cm_names - {""}))
                       .select_related("subdistrict"))
    usernames = {str(r.values["username"]) for r in pp_rows} - {""}
    users = {u.get_username(): u for u in get_user_model().objects.filter(username__in=usernames)}
    posts = {}
    for post in Post.objects.filter(user__in=list(users.values())).select_related("user", "community",
                                                                                   "subdistrict"):
        key = (post.user.get_username(), post.role, post.community.code if post.community_id else "",
               post.subdistrict.code if post.subdistrict_id else "", post.start_date)
        posts[key] = post

    rows = {
        SUBDISTRICTS.kind: _plan_subdistricts(sd_rows, subdistricts),
        COMMUNITIES.kind: None,
        PEOPLE.kind: None,
    }
    known_sd = {s.code: s for s in subdistricts}
    sheet_sd = {r.key: r for r in rows[SUBDISTRICTS.kind] if r.key}
    rows[COMMUNITIES.kind] = _plan_communities(cm_rows, communities, known_sd, sheet_sd)
    sheet_cm = {r.key: r for r in rows[COMMUNITIES.kind] if r.key}
    rows[PEOPLE.kind] = _plan_people(pp_rows, users, posts, {c.code: c for c in communities}, sheet_cm, known_sd,
                                     sheet_sd)
    return Plan(rows={k: v for k, v in rows.items() if k in sheets}, sha256=workbook.sha256)


def _plan_subdistricts(records, existing):
    by_code = {s.code: s for s in existing}
    by_name = {s.name: s for s in existing}
    headers = _headers(SUBDISTRICTS)
    seen_codes, seen_names, results = {}, {}, []
    for record in records:
        result = RowResult(SUBDISTRICTS.kind, record.row, "", "")
        check = _Checker(SUBDISTRICTS, record, result)
        code = check.code("code")
        name = check.text("name", 100, required=True)
        party = check.text("party_committee_name", 150)
        construction = check.text("construction_committee_name", 150)
        result.key, result.label = code, name
        if code:
            _duplicate(seen_codes, code, check, "code", _("街道代码"))
        if name:
            _duplicate(seen_names, name, check, "name", _("街道名称"))
        current = by_code.get(code)
        other = by_name.get(name)
        if other is not None and other.code != code:
            check.error("code" if current is None else "name",
                        _("名称“%(name)s”已是代码为“%(code)s”的街道；街道代码一经设立不能修改。")
                        % {"name": name, "code": other.code} if current is None else
                        _("名称“%(name)s”已被代码为“%(code)s”的另一个街道使用。") % {"name": name, "code": other.code})
        if current is None:
            if result.status != STATUS_ERROR:
                result.status = STATUS_NEW
                result.op = ("create", {"code": code, "name": name, "party_committee_name": party,
                                        "construction_committee_name": construction})
        else:
            _compare(result, current, {"name": name, "party_committee_name": party,
                                       "construction_committee_name": construction}, headers)
        results.append(result)
    return results


def _plan_communities(records, existing, known_sd, sheet_sd):
    by_code = {c.code: c for c in existing}
    by_name = {c.name: c for c in existing}
    headers = _headers(COMMUNITIES)
    reserved = set(segments().values())
    seen_codes, seen_names, results = {}, {}, []
    for record in records:
        result = RowResult(COMMUNITIES.kind, record.row, "", "")
        check = _Checker(COMMUNITIES, record, result)
        sd_code = check.code("subdistrict")
        code = check.code("code")
        name = check.text("name", 100, required=True)
        phone = check.text("phone", 40)
        address = check.text("address", 200)
        result.key, result.label = code, name
        if sd_code and sd_code not in known_sd and sd_code not in sheet_sd:
            check.error("subdistrict", _("没有代码为“%(code)s”的街道：请先在“%(sheet)s”表中填写，或核对代码。")
                        % {"code": sd_code, "sheet": SUBDISTRICTS.title})
        if code:
            _duplicate(seen_codes, code, check, "code", _("社区代码"))
        if name:
            _duplicate(seen_names, name, check, "name", _("社区名称"))
        current = by_code.get(code)
        other = by_name.get(name)
        if other is not None and other.code != code:
            if current is None:
                check.error("code", _("名称“%(name)s”已是代码为“%(code)s”的社区；社区代码一经设立不能修改：公开网址和已张贴的二维码都用它。")
                            % {"name": name, "code": other.code})
            else:
                check.error("name", _("名称“%(name)s”已被代码为“%(code)s”的另一个社区使用。") % {"name": name, "code": other.code})
        if current is None:
            if code.lower() in reserved:
                check.error("code", _("社区代码不能是 %(code)s：公开网址用它表示语言。") % {"code": code})
            if result.status != STATUS_ERROR:
                result.status = STATUS_NEW
                result.op = ("create", {"subdistrict": sd_code, "code": code, "name": name, "phone": phone,
                                        "address": address})
        else:
            if sd_code and current.subdistrict.code != sd_code:
                check.error("subdistrict", _("社区“%(name)s”属于街道“%(code)s”，不能改属其他街道：各岗位的权限随街道而定。")
                            % {"name": current.name, "code": current.subdistrict.code})
            _compare(result, current, {"name": name, "phone": phone, "address": address}, headers)
        results.append(result)
    return results


def _role_lookup():
    """Role by its Chinese label, its English label or its code."""
    table = {}
    for value, label in Role.choices:
        with override("zh-hans"):
            table[str(label)] = value
        with override("en"):
            table[str(label).lower()] = value
        table[value] = value
    return table


def _plan_people(records, users, posts, known_cm, sheet_cm, known_sd, sheet_sd):
    headers = _headers(PEOPLE)
    roles = _role_lookup()
    username_validator = UnicodeUsernameValidator()
    person_rows = {}  # username → the number of its first row
    # A person's name and email: the first row that fills each in (a later row may leave them blank).
    details = {}
    for record in records:
        username = _text(record.values.get("username"))
        for key in ("full_name", "email"):
            value = _text(record.values.get(key))
            if username and value:
                details.setdefault((username, key), (record.row, value))
    seen_posts, results = {}, []
    person_ops = {}
    for record in records:
        result = RowResult(PEOPLE.kind, record.row, "", "")
        check = _Checker(PEOPLE, record, result)
        username = check.text("username", 150, required=True)
        full_name = check.text("full_name", 150)
        email = check.text("email", 254)
        role_text = check.text("role", 40)
        cm_code = check.text("community", 40)
        sd_code = check.text("subdistrict", 40)
        start = check.date("start_date")
        end = check.date("end_date")
        acting = check.acting("acting")
        result.key, result.label = username, full_name
        if username:
            try:
                username_validator(username)
            except ValidationError:
                check.error("username", _("用户名“%(name)s”只能包含字母、数字和 @ . + - _。") % {"name": username})
        if email:
            try:
                validate_email(email)
            except ValidationError:
                check.error("email", _("“%(email)s”不是有效的电子邮箱地址。") % {"email": email})
        user = users.get(username)
        if user is not None and user.is_superuser:
            check.error("username", _("“%(name)s”是运维人员的账号，不能通过名册导入修改或任职。") % {"name": username})
        first = person_rows.get(username)
        if first is None and username:
            person_rows[username] = record.row
        # The same person on several rows: the details must agree; the first row filled in gives them.
        named = details.get((username, "full_name"))
        if full_name and named and full_name != named[1]:
            check.error("full_name", _("与第 %(row)s 行同一用户名的姓名“%(name)s”不一致。") % {"row": named[0], "name": named[1]})
        mailed = details.get((username, "email"))
        if email and mailed and email != mailed[1]:
            check.error("email", _("与第 %(row)s 行同一用户名的邮箱“%(email)s”不一致。") % {"row": mailed[0], "email": mailed[1]})
        full_name, email = (named or (0, ""))[1], (mailed or (0, ""))[1]
        result.label = full_name
        if user is None and username and not full_name and first is None:
            check.error("full_name", _("新用户必须填写姓名。"))

        # The person: created or updated once, on the first row of their username.
        person_changes = []
        if username and first is None and not result.errors:
            if user is None:
                person_ops[username] = ("create", {"username": username, "full_name": full_name, "email": email})
                person_changes = [(headers["full_name"], "", full_name)] + (
                    [(headers["email"], "", email)] if email else [])
            else:
                wanted = {}
                if full_name and full_name != user.get_full_name().strip():
                    wanted["full_name"] = full_name
                    person_changes.append((headers["full_name"], user.get_full_name().strip(), full_name))
                if email and email != user.email:
                    wanted["email"] = email
                    person_changes.append((headers["email"], user.email, email))
                if wanted:
                    person_ops[username] = ("update", user, wanted)

        # The post.
        post_op = ()
        if role_text == "" and not (cm_code or sd_code or start or end or acting):
            pass  # a person without a post on this row
        else:
            role = roles.get(role_text) or roles.get(role_text.lower())
            if role_text == "":
                check.error("role", _("填写了社区、街道或任职日期，但没有填写职务。"))
            elif role is None:
                check.error("role", _("未知的职务“%(role)s”，应为：%(roles)s。")
                            % {"role": role_text, "roles": _("、").join(str(label) for _v, label in Role.choices)})
            scope = Role.scope_of(role) if role else None
            community = subdistrict = None
            if scope == "community":
                if not cm_code:
                    check.error("community", ROLE_SCOPE_HINT["community"])
                elif cm_code not in known_cm and cm_code not in sheet_cm:
                    check.error("community", _("没有代码为“%(code)s”的社区：请先在“%(sheet)s”表中填写，或核对代码。")
                                % {"code": cm_code, "sheet": COMMUNITIES.title})
                else:
                    community = cm_code
                    owner = (known_cm[cm_code].subdistrict.code if cm_code in known_cm
                             else sheet_cm[cm_code].op[1]["subdistrict"] if sheet_cm[cm_code].op else "")
                    if sd_code and owner and sd_code != owner:
                        check.error("subdistrict", _("社区“%(community)s”属于街道“%(owner)s”，不是“%(code)s”。")
                                    % {"community": cm_code, "owner": owner, "code": sd_code})
                sd_code = ""
            elif scope == "subdistrict":
                if not sd_code:
                    check.error("subdistrict", ROLE_SCOPE_HINT["subdistrict"])
                elif sd_code not in known_sd and sd_code not in sheet_sd:
                    check.error("subdistrict", _("没有代码为“%(code)s”的街道：请先在“%(sheet)s”表中填写，或核对代码。")
                                % {"code": sd_code, "sheet": SUBDISTRICTS.title})
                else:
                    subdistrict = sd_code
                if cm_code:
                    check.error("community", _("街道职务不填社区代码。"))
            elif scope == "city":
                if cm_code or sd_code:
                    check.error("community" if cm_code else "subdistrict", _("市委组织部管理员的职务不填社区或街道代码。"))
            if start is None and not any(e.header == headers["start_date"] for e in result.errors):
                check.error("start_date", _("任职时必须填写任职起始日。"))
            if start and end and end <= start:
                check.error("end_date", _("任职终止日（%(end)s）须晚于任职起始日（%(start)s）。")
                            % {"end": end.isoformat(), "start": start.isoformat()})
            if role and start:
                key = (username, role, community or "", subdistrict or "", start)
                if key in seen_posts:
                    check.error("start_date", _("同一人、同一职务、同一单位、同一起始日的任职在本表第 %(row)s 行已出现过。")
                                % {"row": seen_posts[key]})
                else:
                    seen_posts[key] = record.row
                existing = posts.get(key)
                if existing is None:
                    post_op = ("create", {"username": username, "role": role, "community": community,
                                          "subdistrict": subdistrict, "start_date": start, "end_date": end,
                                          "acting": bool(acting)})
                    person_changes.append((headers["role"], "", f"{Role(role).label} · {community or subdistrict or _('全市')} · "
                                           f"{long_date(start)}" + (f" — {long_date(end)}" if end else "")))
                else:
                    wanted = {}
                    if end is not None and end != existing.end_date:
                        wanted["end_date"] = end
                        person_changes.append((headers["end_date"], existing.end_date or "", end))
                    if acting is not None and acting != existing.acting:
                        wanted["acting"] = acting
                        person_changes.append((headers["acting"], _("是") if existing.acting else _("否"),
                                               _("是") if acting else _("否")))
                    if wanted:
                        post_op = ("update", existing, wanted)
        if result.status != STATUS_ERROR:
            result.changes = person_changes
            is_new = username in person_ops and person_ops[username][0] == "create" and first is None
            if is_new or (post_op and post_op[0] == "create"):
                result.status = STATUS_NEW
            elif person_changes:
                result.status = STATUS_UPDATED
            result.op = (person_ops.get(username) if first is None else None, post_op)
        results.append(result)
    return results


# --- the apply -------------------------------------------------------------------------------------------

class ApplyRefused(DomainError):
    """The plan has errors, or changed since the dry run; carries the plan to show."""

    def __init__(self, message, plan):
        super().__init__(message)
        self.plan = plan


@retry_on_conflict
@transaction.atomic
def onboarding_apply(*, data, by, expected_fingerprint=None):
    """Perform the roster workbook: all of it in one transaction through the audited services, or nothing.

    Returns the plan performed. Raises ApplyRefused (with the new plan) if it has errors or is not the plan
    previewed (`expected_fingerprint`), ImportRefused if the file cannot be read, DomainError naming the row
    if a service refuses a row (everything written before it is undone)."""
    if by is None or not rights.is_city_admin(by):
        raise NotAllowed(_("只有在任的市委组织部管理员可以导入名册。"))
    plan = onboarding_plan(read_workbook(data))
    if plan.errors:
        raise ApplyRefused(_("名册有错误，没有导入任何内容。请改正后重新上传。"), plan)
    if expected_fingerprint is not None and plan.fingerprint != expected_fingerprint:
        raise ApplyRefused(_("预览之后系统中的记录已有变化，下面是重新核对的结果。请再次确认。"), plan)
    try:
        _perform(plan, by)
    except IntegrityError as exc:
        raise Conflict(_("导入时与系统中的记录冲突（可能有人同时修改了），没有导入任何内容。请重新上传预览。")) from exc
    return plan


def _row_error(result, exc):
    sheet = next(s.title for s in SHEETS if s.kind == result.kind)
    return DomainError(_("“%(sheet)s”表第 %(row)s 行：%(message)s（没有导入任何内容）")
                       % {"sheet": sheet, "row": result.row, "message": exc})


def _perform(plan, by):
    """Subdistricts, communities, people, posts, in that order; the new ones of each kind in one act of the
    bulk services, the changed ones one by one through the ordinary services; then everyone's rights."""
    subdistricts = {}
    for result in plan.rows.get(SUBDISTRICTS.kind, []):
        try:
            if result.op and result.op[0] == "create":
                subdistricts[result.key] = org.subdistrict_create(by=by, **result.op[1])
            elif result.op:
                subdistricts[result.key] = org.subdistrict_update(subdistrict=result.op[1], by=by, **result.op[2])
        except DomainError as exc:
            raise _row_error(result, exc) from exc

    community_rows = plan.rows.get(COMMUNITIES.kind, [])
    people = plan.rows.get(PEOPLE.kind, [])
    post_ops = [(r, r.op[1]) for r in people if r.op and r.op[1]]
    wanted_sd = ({r.op[1]["subdistrict"] for r in community_rows if r.op and r.op[0] == "create"}
                 | {op[1]["subdistrict"] for _r, op in post_ops if op[0] == "create"}) - {None} - set(subdistricts)
    subdistricts.update({s.code: s for s in Subdistrict.objects.filter(code__in=wanted_sd)})

    new_communities, changed_communities = [], []
    for result in community_rows:
        if result.op and result.op[0] == "create":
            values = dict(result.op[1])
            new_communities.append(Community(subdistrict=subdistricts[values.pop("subdistrict")], **values))
        elif result.op:
            changed_communities.append((result.op[1], result.op[2]))
    if changed_communities:
        org.communities_update(changes=changed_communities, by=by)
    if new_communities:
        org.communities_create(communities=new_communities, by=by)
    communities = {c.code: c for c in new_communities}
    wanted_cm = {op[1]["community"] for _r, op in post_ops if op[0] == "create"} - {None} - set(communities)
    communities.update({c.code: c for c in Community.objects.filter(code__in=wanted_cm)})

    person_ops = [(r, r.op[0]) for r in people if r.op and r.op[0]]
    new_people = [op[1] for _r, op in person_ops if op[0] == "create"]
    users = {u.get_username(): u for u in accounts.users_create(people=new_people, by=by)} if new_people else {}
    changed_people = [(op[1], op[2]) for _r, op in person_ops if op[0] == "update"]
    if changed_people:
        accounts.users_update(changes=changed_people, by=by)
    holders = {op[1]["username"] for _r, op in post_ops if op[0] == "create"} - set(users)
    users.update({u.get_username(): u for u in get_user_model().objects.filter(username__in=holders)})

    new_posts, changed_posts, to_sync = [], [], set()
    for _result, op in post_ops:
        if op[0] == "create":
            values = op[1]
            new_posts.append(Post(
                user=users[values["username"]], role=values["role"], start_date=values["start_date"],
                end_date=values["end_date"], acting=values["acting"],
                community=communities[values["community"]] if values["community"] else None,
                subdistrict=subdistricts[values["subdistrict"]] if values["subdistrict"] else None))
        else:
            changed_posts.append((op[1], op[2]))
            to_sync.add(op[1].user_id)
    if changed_posts:
        org.posts_change(changes=changed_posts, by=by)
    if new_posts:
        org.posts_create(posts=new_posts, by=by)
    to_sync |= {p.user_id for p in new_posts}
    if new_communities:
        # People whose posts span the subdistrict or the city now reach the new communities too.
        spanned = {c.subdistrict_id for c in new_communities}
        to_sync |= set(Post.objects.filter(Q(role=Role.CITY_ADMIN) | Q(subdistrict_id__in=spanned))
                       .values_list("user_id", flat=True))
    if to_sync:
        rights.sync_users_permissions(get_user_model().objects.filter(pk__in=to_sync))


# --- keeping the upload between the dry run and the apply ------------------------------------------------

def _upload_dir():
    return Path(settings.MEDIA_ROOT) / "onboarding"


def upload_keep(*, data, by):
    """Keep an uploaded workbook for its apply; returns a signed token naming it, its checksum and owner.
    Files older than a day are removed on the way."""
    folder = _upload_dir()
    folder.mkdir(parents=True, exist_ok=True)
    cutoff = timezone.now().timestamp() - TOKEN_MAX_AGE
    for old in folder.glob("*.xlsx"):
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:
            pass
    name = secrets.token_hex(16)
    (folder / f"{name}.xlsx").write_bytes(data)
    return signing.dumps({"f": name, "h": hashlib.sha256(data).hexdigest(), "u": by.pk}, salt="onboarding")


def upload_load(*, token, by):
    """The workbook a token names, exactly as it was uploaded (checksum checked), for the same person."""
    try:
        payload = signing.loads(token, salt="onboarding", max_age=TOKEN_MAX_AGE)
    except signing.BadSignature as exc:
        raise DomainError(_("上传的文件已过期或无效，请重新上传。")) from exc
    if payload.get("u") != by.pk or not re.fullmatch(r"[0-9a-f]{32}", str(payload.get("f"))):
        raise DomainError(_("上传的文件已过期或无效，请重新上传。"))
    path = _upload_dir() / f"{payload['f']}.xlsx"
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DomainError(_("上传的文件已过期或无效，请重新上传。")) from exc
    if hashlib.sha256(data).hexdigest() != payload.get("h"):
        raise DomainError(_("上传的文件已被改动，请重新上传。"))
    return data


def upload_forget(*, token):
    try:
        payload = signing.loads(token, salt="onboarding", max_age=TOKEN_MAX_AGE)
        (_upload_dir() / f"{payload['f']}.xlsx").unlink(missing_ok=True)
    except (signing.BadSignature, OSError, KeyError):
        pass
