"""The demo city: two subdistricts, six communities, a person in every post. Built through the services."""
import datetime
import functools
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction

from . import clock
from .models import Community, FundYear, LedgerEntry, Post, Role, Subdistrict
from .services import ledger as ledger_services
from .services import org as org_services

DEMO_PASSWORD = "fund-demo-2026"
ANNUAL_ALLOCATION = Decimal("200000.00")

SUBDISTRICTS = [
    ("dongcheng", "东城街道", [("xingfu", "幸福社区"), ("heping", "和平社区"), ("guangming", "光明社区")]),
    ("xicheng", "西城街道", [("youyi", "友谊社区"), ("tuanjie", "团结社区"), ("chunhui", "春晖社区")]),
]
SUBDISTRICT_POSTS = [
    ("secretary", Role.SUBDISTRICT_SECRETARY, "书记"),
    ("director", Role.CONSTRUCTION_DIRECTOR, "主任"),
    ("staff", Role.SUBDISTRICT_STAFF, "干事"),
    ("finance", Role.FINANCE_OFFICER, "会计"),
]
COMMUNITY_POSTS = [
    ("secretary", Role.COMMUNITY_SECRETARY, "书记"),
    ("staff", Role.COMMUNITY_STAFF, "社工"),
    ("supervisor", Role.SUPERVISOR, "监督员"),
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"


@functools.cache
def _demo_password_hash():
    # One (deliberately slow) hash shared by every demo login instead of thirty.
    return make_password(DEMO_PASSWORD)


def _user(username, full_name):
    User = get_user_model()
    user, created = User.objects.get_or_create(username=username, defaults={"first_name": full_name})
    if created:
        user.password = _demo_password_hash()
        user.save(update_fields=["password"])
    return user


def _ensure_post(user, role, start, *, community=None, subdistrict=None, end=None):
    exists = Post.objects.filter(user=user, role=role, community=community, subdistrict=subdistrict).exists()
    if not exists:
        org_services.post_create(user=user, role=role, start_date=start, end_date=end,
                                 community=community, subdistrict=subdistrict)


def allocation_day(today):
    """The day the demo's allocation for `today`'s year is entered: 10 January, or today if earlier."""
    return min(datetime.date(today.year, 1, 10), today)


@transaction.atomic
def seed_demo(today=None):
    """Create what is missing of the demo city; running it again changes nothing. `today` is the domain's
    (settings.FUND_AS_OF moves it in development)."""
    today = today or clock.today()
    term_start = datetime.date(today.year - 1, 1, 1)
    names = iter(SURNAMES)
    logins = []

    admin = _user("city-admin", "市委组织部 管理员")
    _ensure_post(admin, Role.CITY_ADMIN, term_start)
    logins.append(("city-admin", Role.CITY_ADMIN.label, "全市"))

    for sd_code, sd_name, communities in SUBDISTRICTS:
        subdistrict = Subdistrict.objects.filter(code=sd_code).first() or org_services.subdistrict_create(
            name=sd_name, code=sd_code
        )
        for suffix, role, title in SUBDISTRICT_POSTS:
            username = f"{sd_code}-{suffix}"
            _ensure_post(_user(username, f"{next(names)}{title}"), role, term_start, subdistrict=subdistrict)
            logins.append((username, role.label, sd_name))
        for c_code, c_name in communities:
            number = len(logins)  # a different service-hall phone for each community, printed on its notices
            community = Community.objects.filter(code=c_code).first() or org_services.community_create(
                subdistrict=subdistrict, name=c_name, code=c_code, phone=f"0431-8562 {3000 + number}",
                address=f"{sd_name}{c_name}党群服务中心一楼",
            )
            for suffix, role, title in COMMUNITY_POSTS:
                username = f"{c_code}-{suffix}"
                _ensure_post(_user(username, f"{next(names)}{title}"), role, term_start, community=community)
                logins.append((username, role.label, c_name))
            if not LedgerEntry.objects.filter(
                fund_year__community=community, fund_year__year=today.year, kind=LedgerEntry.Kind.ALLOCATION
            ).exists():
                ledger_services.fund_year_allocate(
                    community=community, year=today.year, amount=ANNUAL_ALLOCATION,
                    entry_date=allocation_day(today),
                )

    # A secretary replaced at the last election: the post ended, the history keeps it.
    former = _user("xingfu-former-secretary", "前任书记 钱旧")
    _ensure_post(former, Role.COMMUNITY_SECRETARY, datetime.date(today.year - 3, 1, 1),
                 community=Community.objects.get(code="xingfu"), end=term_start)
    return logins


def demo_summary():
    return {
        "subdistricts": Subdistrict.objects.count(),
        "communities": Community.objects.count(),
        "posts": Post.objects.count(),
        "fund_years": FundYear.objects.count(),
    }
