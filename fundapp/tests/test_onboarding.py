"""Setting up the city from Excel (fundapp.services.onboarding): the template, the dry run's errors by row and
column, the apply through the audited services (all or nothing), re-imports that change nothing, changed
sheets that update by code."""
import datetime
import io
import zipfile

import openpyxl
import pytest
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from guardian.models import UserObjectPermission

from audit.models import AuditRecord
from audit.services import verify_chain
from fundapp import rights
from fundapp.errors import DomainError, NotAllowed
from fundapp.models import Community, Post, Role, SearchEntry, Subdistrict
from fundapp.services import onboarding
from fundapp.services import org as org_services
from tests import roster

D = datetime.date
pytestmark = pytest.mark.django_db


def _counts():
    return {"subdistricts": Subdistrict.objects.count(), "communities": Community.objects.count(),
            "users": get_user_model().objects.count(), "posts": Post.objects.count(),
            "audit": AuditRecord.objects.count(), "grants": UserObjectPermission.objects.count()}


def _plan(data):
    return onboarding.onboarding_plan(onboarding.read_workbook(roster.workbook(data)))


def _errors(plan):
    return [(e.sheet, e.row, e.column, e.message) for e in plan.errors]


def _grants(user):
    ct = ContentType.objects.get_for_model(Community)
    return {(codename, int(pk)) for codename, pk in UserObjectPermission.objects.filter(user=user, content_type=ct)
            .values_list("permission__codename", "object_pk")}


def test_the_template_has_each_sheet_with_its_header_an_example_and_the_notes():
    book = openpyxl.load_workbook(io.BytesIO(onboarding.template_workbook()))
    assert book.sheetnames == ["街道", "社区", "人员与任职", "说明"]
    for spec in onboarding.SHEETS:
        ws = book[spec.title]
        assert [c.value for c in ws[1]] == [c.header for c in spec.columns]
        assert ws.cell(2, 1).value == spec.columns[0].example
        assert all(ws.cell(1, i + 1).comment for i in range(len(spec.columns)))
    assert book["人员与任职"]["D2"].value == "社区党委书记"
    notes = [row[1] for row in book["说明"].iter_rows(values_only=True)]
    assert {c.header for spec in onboarding.SHEETS for c in spec.columns} <= set(notes)
    # The template as downloaded imports nothing: its example rows are skipped.
    plan = onboarding.onboarding_plan(onboarding.read_workbook(onboarding.template_workbook()))
    assert plan.rows == {"subdistricts": [], "communities": [], "people": []}


def test_the_dry_run_names_every_mistake_by_row_and_column_and_writes_nothing(org):
    before = _counts()
    plan = _plan({
        "subdistricts": [
            {"code": "n1", "name": "新街道"},
            {"code": "n1", "name": "又一个街道"},  # row 3: the code again
            {"code": "bad code", "name": "坏代码街道"},
            {"code": "a-renamed", "name": "东城街道"},  # a's name under a new code: a code change
        ],
        "communities": [
            {"subdistrict": "nowhere", "code": "x1", "name": "无街道社区"},
            {"subdistrict": "a", "code": "a1-new", "name": "东城街道1号社区"},  # a1 renamed by code
            {"subdistrict": "b", "code": "a1", "name": "东城街道1号社区"},  # a1 moved to b
            {"subdistrict": "n1", "code": "en", "name": "英文社区"},  # the language's address
        ],
        "people": [
            {"username": "u1", "full_name": "甲", "role": "社区党委书记", "community": "a1", "start_date": "2026-13-01"},
            {"username": "u2", "full_name": "乙", "role": "社区党委书记", "community": "a1",
             "start_date": D(2026, 3, 1), "end_date": D(2026, 2, 1)},
            {"username": "u3", "full_name": "丙", "role": "书记", "community": "a1", "start_date": D(2026, 1, 1)},
            {"username": "u4", "full_name": "丁", "role": "社区工作者", "start_date": D(2026, 1, 1)},
            {"username": "u5", "full_name": "戊", "role": "社区工作者", "community": "zz", "start_date": D(2026, 1, 1)},
            {"username": "u6", "full_name": "", "role": "社区工作者", "community": "a1", "start_date": D(2026, 1, 1)},
            {"username": "u7", "full_name": "己", "role": "党工委工作人员", "subdistrict": "a"},
        ],
    })
    errors = _errors(plan)
    expected = [
        ("街道", 3, "A", "街道代码“n1”在本表第 2 行已出现过。"),
        ("街道", 4, "A", "代码“bad code”只能由字母、数字、连字符和下划线组成。"),
        ("街道", 5, "A", "名称“东城街道”已是代码为“a”的街道；街道代码一经设立不能修改。"),
        ("社区", 2, "A", "没有代码为“nowhere”的街道：请先在“街道”表中填写，或核对代码。"),
        ("社区", 3, "B", "名称“东城街道1号社区”已是代码为“a1”的社区；社区代码一经设立不能修改：公开网址和已张贴的二维码都用它。"),
        ("社区", 4, "C", "社区名称“东城街道1号社区”在本表第 3 行已出现过。"),
        ("社区", 4, "A", "社区“东城街道1号社区”属于街道“a”，不能改属其他街道：各岗位的权限随街道而定。"),
        ("社区", 5, "B", "社区代码不能是 en：公开网址用它表示语言。"),
        ("人员与任职", 2, "G", "“2026-13-01”不是日期：请写作 2026-01-01，或设为 Excel 日期格式。"),
        ("人员与任职", 3, "H", "任职终止日（2026-02-01）须晚于任职起始日（2026-03-01）。"),
        ("人员与任职", 5, "E", "社区职务须填写社区代码。"),
        ("人员与任职", 6, "E", "没有代码为“zz”的社区：请先在“社区”表中填写，或核对代码。"),
        ("人员与任职", 7, "B", "新用户必须填写姓名。"),
        ("人员与任职", 8, "G", "任职时必须填写任职起始日。"),
    ]
    for item in expected:
        assert item in errors, (item, errors)
    role_error = next(e for e in errors if e[:3] == ("人员与任职", 4, "D"))
    assert role_error[3].startswith("未知的职务“书记”，应为：市委组织部管理员、")
    assert len(errors) == len(expected) + 1
    assert [r.status for r in plan.rows["subdistricts"]] == ["new", "error", "error", "error"]
    assert _counts() == before


def test_a_file_that_is_not_the_roster_is_refused_with_a_clear_message(monkeypatch):
    with pytest.raises(onboarding.ImportRefused, match="这不是 Excel 工作簿"):
        onboarding.read_workbook(b"code,name\nn1,x\n")
    with pytest.raises(onboarding.ImportRefused, match="无法读取"):
        onboarding.read_workbook(b"PK\x03\x04 broken")
    damaged = io.BytesIO()
    with zipfile.ZipFile(damaged, "w") as archive:
        archive.writestr("[Content_Types].xml", "<<<")
        archive.writestr("xl/workbook.xml", "<x")
    with pytest.raises(onboarding.ImportRefused, match="无法读取"):
        onboarding.read_workbook(damaged.getvalue())
    formula = openpyxl.Workbook()
    formula.active.title = "街道"
    formula.active.append(["街道代码", "街道名称"])
    formula.active.append(["n1", "=A2&\"街道\""])
    out = io.BytesIO()
    formula.save(out)
    with pytest.raises(onboarding.ImportRefused, match="公式") as refused:
        onboarding.read_workbook(out.getvalue())
    assert refused.value.problems == ["“街道”表第 2 行 B 列（街道名称）"]
    with pytest.raises(onboarding.ImportRefused, match="表头不对") as refused:
        onboarding.read_workbook(roster.workbook({"subdistricts": [{}]}, headers={"subdistricts": ["代码", "名称"]}))
    assert "街道代码、街道名称" in refused.value.problems[0]
    monkeypatch.setattr(onboarding, "MAX_ROWS", 3)
    with pytest.raises(onboarding.ImportRefused, match="最多导入 3 行"):
        onboarding.read_workbook(roster.workbook(roster.city(2, 4, 0)))
    monkeypatch.setattr(onboarding, "MAX_BYTES", 100)
    with pytest.raises(onboarding.ImportRefused, match="文件太大"):
        onboarding.read_workbook(roster.workbook(roster.city(1, 1, 0)))


def test_apply_creates_everything_with_audit_records_and_rights_then_a_reimport_changes_nothing(org):
    data = roster.workbook(roster.city(2, 4))
    before = _counts()
    plan = onboarding.onboarding_plan(onboarding.read_workbook(data))
    assert plan.counts() == {"subdistricts": {"new": 2, "updated": 0, "unchanged": 0, "error": 0},
                             "communities": {"new": 4, "updated": 0, "unchanged": 0, "error": 0},
                             "people": {"new": 20, "updated": 0, "unchanged": 0, "error": 0}}
    assert _counts() == before
    onboarding.onboarding_apply(data=data, by=org.city_admin, expected_fingerprint=plan.fingerprint)
    after = _counts()
    assert {k: after[k] - before[k] for k in ("subdistricts", "communities", "users", "posts")} == {
        "subdistricts": 2, "communities": 4, "users": 20, "posts": 20}
    actions = list(AuditRecord.objects.filter(pk__gt=AuditRecord.objects.order_by("pk")[before["audit"] - 1].pk)
                   .values_list("action", "actor_id"))
    assert sorted({a for a, _ in actions}) == ["community.create", "post.create", "subdistrict.create", "user.create"]
    assert len(actions) == 2 + 4 + 20 + 20 and {actor for _, actor in actions} == {org.city_admin.pk}
    assert verify_chain() == []
    assert SearchEntry.objects.filter(kind=SearchEntry.Kind.COMMUNITY, name="第1社区").exists()

    c1 = Community.objects.get(code="c1")
    assert (c1.subdistrict.code, c1.phone, c1.address) == ("sd2", "0571-88000001", "幸福路1号")
    assert Subdistrict.objects.get(code="sd1").party_committee_name == "第1街道党工委"
    secretary = Post.objects.get(community=c1, role=Role.COMMUNITY_SECRETARY).user
    assert (secretary.get_full_name(), secretary.has_usable_password()) == (Post.objects.get(
        community=c1, role=Role.COMMUNITY_SECRETARY).user.first_name, False)
    # Rights as the ordinary post services would give them: the holders' and the city administrator's.
    for user in [secretary, Post.objects.filter(subdistrict__code="sd2").first().user, org.city_admin]:
        assert _grants(user) == rights.desired_grants(user), user
    assert rights.check(secretary, "draft_proposal", c1)
    assert rights.check(org.city_admin, "manage_fund", c1)

    again = onboarding.onboarding_plan(onboarding.read_workbook(data))
    assert again.changed == 0 and not again.errors
    onboarding.onboarding_apply(data=data, by=org.city_admin)
    assert _counts() == after


def test_a_changed_sheet_updates_by_code_and_username(org):
    city = roster.city(1, 2)
    onboarding.onboarding_apply(data=roster.workbook(city), by=org.city_admin)
    audit_before = AuditRecord.objects.count()
    city["subdistricts"][0]["construction_committee_name"] = "第1街道建设管理委员会"
    city["communities"][0].update(name="第一社区（新名）", phone="0571-1", address="")  # blank: keep
    city["people"][4]["end_date"] = D(2026, 6, 1)  # ends a term
    city["people"][5]["full_name"] = "新名字"
    city["people"].append({"username": "p5", "full_name": "新名字", "role": "社区议事监督委员会成员",
                           "community": "c2", "start_date": D(2026, 7, 1)})  # a second post of p5
    plan = _plan(city)
    statuses = {(k, r.row): r.status for k, rows in plan.rows.items() for r in rows if r.status != "unchanged"}
    assert statuses == {("subdistricts", 2): "updated", ("communities", 2): "updated", ("people", 6): "updated",
                        ("people", 7): "updated", ("people", 12): "new"}
    onboarding.onboarding_apply(data=roster.workbook(city), by=org.city_admin)
    c1 = Community.objects.get(code="c1")
    assert (c1.name, c1.phone, c1.address) == ("第一社区（新名）", "0571-1", "幸福路1号")
    assert Post.objects.get(user__username="p4").end_date == D(2026, 6, 1)
    assert get_user_model().objects.get(username="p5").get_full_name() == "新名字"
    assert Post.objects.filter(user__username="p5").count() == 2
    assert sorted(AuditRecord.objects.order_by("pk")[audit_before:].values_list("action", flat=True)) == [
        "community.change", "post.change", "post.create", "subdistrict.change", "user.change"]


def test_apply_is_all_or_nothing(org, monkeypatch):
    data = roster.workbook(roster.city(1, 2))
    before = _counts()

    def refuse(**kwargs):
        raise DomainError("拒绝")

    # The last step refuses: the subdistricts, communities and accounts written before it are undone.
    monkeypatch.setattr(org_services, "posts_create", refuse)
    with pytest.raises(DomainError, match="拒绝"):
        onboarding.onboarding_apply(data=data, by=org.city_admin)
    assert _counts() == before
    monkeypatch.undo()

    bad = roster.city(1, 2)
    bad["people"][0]["role"] = "队长"
    with pytest.raises(onboarding.ApplyRefused) as refused:
        onboarding.onboarding_apply(data=roster.workbook(bad), by=org.city_admin)
    assert refused.value.plan.errors and _counts() == before

    # What was previewed is no longer what would be done: the new dry run, nothing written.
    plan = onboarding.onboarding_plan(onboarding.read_workbook(data))
    org_services.subdistrict_create(name="第1街道", code="sd1", by=org.city_admin)
    changed = _counts()
    with pytest.raises(onboarding.ApplyRefused, match="预览之后"):
        onboarding.onboarding_apply(data=data, by=org.city_admin, expected_fingerprint=plan.fingerprint)
    assert _counts() == changed


def test_only_a_city_administrator_applies(org):
    with pytest.raises(NotAllowed):
        onboarding.onboarding_apply(data=roster.workbook(roster.city(1, 1)),
                                    by=org.person(Role.SUBDISTRICT_SECRETARY, "a1"))


def test_the_kept_upload_is_exactly_the_one_previewed_and_only_for_its_uploader(org, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    token = onboarding.upload_keep(data=b"PK\x03\x04abc", by=org.city_admin)
    assert onboarding.upload_load(token=token, by=org.city_admin) == b"PK\x03\x04abc"
    with pytest.raises(DomainError, match="过期或无效"):
        onboarding.upload_load(token=token, by=org.person(Role.COMMUNITY_SECRETARY, "a1"))
    with pytest.raises(DomainError, match="过期或无效"):
        onboarding.upload_load(token=token + "x", by=org.city_admin)
    next((tmp_path / "onboarding").glob("*.xlsx")).write_bytes(b"PK\x03\x04abd")
    with pytest.raises(DomainError, match="已被改动"):
        onboarding.upload_load(token=token, by=org.city_admin)
    onboarding.upload_forget(token=token)
    assert not list((tmp_path / "onboarding").glob("*.xlsx"))


def test_grants_synced_for_many_at_once_are_those_synced_one_by_one(org):
    """rights.sync_users_permissions (the import's) gives what sync_user_permissions gives, and withdraws."""
    people = [org.person(Role.SUBDISTRICT_SECRETARY, "a1"), org.person(Role.COMMUNITY_STAFF, "b2"), org.city_admin]
    wanted = {u.pk: _grants(u) for u in people}
    assert all(wanted.values())
    UserObjectPermission.objects.filter(user__in=people).delete()
    rights.sync_users_permissions(get_user_model().objects.filter(pk__in=[u.pk for u in people]))
    assert {u.pk: _grants(u) for u in people} == wanted
    post = Post.objects.get(user=people[1])
    org_services.posts_change(changes=[(post, {"end_date": D(2021, 1, 1)})], by=org.city_admin)
    assert _grants(people[1]) == wanted[people[1].pk]  # left to the caller
    rights.sync_users_permissions(get_user_model().objects.filter(pk=people[1].pk))
    assert _grants(people[1]) == set()


def test_the_dry_run_and_the_apply_take_as_many_queries_for_a_big_city_as_for_a_small_one(org):
    """Existing rows are fetched by code and username in a few queries, and the new and changed ones written
    in bulk: the number of queries does not grow with the number of rows."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(city, *, apply):
        data = roster.workbook(city)
        with CaptureQueriesContext(connection) as captured:
            if apply:
                onboarding.onboarding_apply(data=data, by=org.city_admin)
            else:
                onboarding.onboarding_plan(onboarding.read_workbook(data))
        return len(captured)

    small, big = roster.city(1, 2, 6), roster.city(1, 12, 36)
    for city, prefix in ((small, "s"), (big, "b")):  # two cities side by side
        for row in city["subdistricts"] + city["communities"]:
            row["code"], row["name"] = prefix + row["code"], prefix + row["name"]
        for row in city["communities"]:
            row["subdistrict"] = prefix + row["subdistrict"]
        for row in city["people"]:
            row["username"] = prefix + row["username"]
            row["community"] = prefix + row["community"] if row["community"] else ""
            row["subdistrict"] = prefix + row["subdistrict"] if row["subdistrict"] else ""
    assert queries(small, apply=False) == queries(big, apply=False) <= 5
    assert queries(small, apply=True) == queries(big, apply=True)
    for city in (small, big):  # every row changed: names, phones, end dates
        for row in city["communities"]:
            row["phone"] = "0571-1"
        for row in city["people"]:
            row["full_name"], row["end_date"] = row["full_name"] + "甲", D(2026, 12, 31)
    assert queries(small, apply=True) == queries(big, apply=True)
    assert Post.objects.filter(user__username__startswith="b", end_date=D(2026, 12, 31)).count() == 36


def test_a_person_on_several_rows_is_named_by_whichever_row_fills_the_name_in(org):
    rows = [{"username": "q1", "role": "社区工作者", "community": "a1", "start_date": D(2026, 1, 1)},
            {"username": "q1", "full_name": "钱一", "email": "q1@example.org", "role": "社区议事监督委员会成员",
             "community": "a2", "start_date": D(2026, 1, 1)},
            {"username": "q1", "full_name": "钱壹", "role": "社区工作者", "community": "a2", "start_date": D(2026, 1, 1)},
            {"username": "q2", "role": "社区工作者", "community": "a2", "start_date": D(2026, 1, 1)}]
    plan = _plan({"people": rows})
    assert _errors(plan) == [("人员与任职", 4, "B", "与第 3 行同一用户名的姓名“钱一”不一致。"),
                             ("人员与任职", 5, "B", "新用户必须填写姓名。")]
    del rows[2:]
    onboarding.onboarding_apply(data=roster.workbook({"people": rows}), by=org.city_admin)
    person = get_user_model().objects.get(username="q1")
    assert (person.get_full_name(), person.email, person.posts.count()) == ("钱一", "q1@example.org", 2)
