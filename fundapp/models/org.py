"""The organisation: city → subdistricts → communities, and the posts people hold in them."""
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Subdistrict(models.Model):
    """A subdistrict (街道), with its party working committee (党工委) and construction committee (建管委)."""

    name = models.CharField(_("名称"), max_length=100, unique=True)
    code = models.SlugField(_("代码"), max_length=40, unique=True)
    party_committee_name = models.CharField(_("党工委名称"), max_length=150, blank=True)
    construction_committee_name = models.CharField(_("建管委名称"), max_length=150, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("街道")
        verbose_name_plural = _("街道")

    def __str__(self):
        return self.name


class Community(models.Model):
    """A community (社区) whose party committee runs its own fund. Object rights are granted on it."""

    subdistrict = models.ForeignKey(
        Subdistrict, on_delete=models.PROTECT, related_name="communities", verbose_name=_("所属街道")
    )
    name = models.CharField(_("名称"), max_length=100, unique=True)
    code = models.SlugField(_("代码"), max_length=40, unique=True)
    # Printed on every notice the community posts, as the ways to reach it (Art. 10, 13, 15): public on
    # purpose, the service hall's numbers and address, never a person's own.
    # db_default: rows written outside the ORM (bulk COPY, older code during a deploy) get an empty value.
    phone = models.CharField(_("联系电话"), max_length=40, blank=True, default="", db_default="",
                             help_text=_("社区便民服务大厅的电话，印在公示上供居民反映意见。"))
    address = models.CharField(_("地址"), max_length=200, blank=True, default="", db_default="",
                               help_text=_("社区便民服务大厅的地址，印在公示上。"))

    class Meta:
        ordering = ["subdistrict__name", "name"]
        verbose_name = _("社区")
        verbose_name_plural = _("社区")
        # Object permissions held through posts (see fundapp.rights); never granted model-wide.
        default_permissions = ()
        permissions = [
            ("view_fund", _("查看社区经费全部记录")),
            ("draft_proposal", _("起草项目与录入资料")),
            ("file_proposal", _("申报项目、记录会议与公示、答复异议")),
            ("consent_proposal", _("初步同意项目")),
            ("review_proposal", _("审批项目")),
            ("manage_project", _("组织审核、跟进与验收")),
            ("sign_invoice", _("在发票上签字")),
            ("settle_invoice", _("结算与记账")),
            ("supervise", _("记录监督意见")),
            ("manage_fund", _("管理年度经费")),
        ]

    def __str__(self):
        return self.name


class Role(models.TextChoices):
    CITY_ADMIN = "city_admin", _("市委组织部管理员")
    SUBDISTRICT_SECRETARY = "subdistrict_secretary", _("社区党工委书记")
    CONSTRUCTION_DIRECTOR = "construction_director", _("社区建设管理委员会主任")
    SUBDISTRICT_STAFF = "subdistrict_staff", _("党工委工作人员")
    FINANCE_OFFICER = "finance_officer", _("党工委财务管理人员")
    COMMUNITY_SECRETARY = "community_secretary", _("社区党委书记")
    COMMUNITY_STAFF = "community_staff", _("社区工作者")
    SUPERVISOR = "supervisor", _("社区议事监督委员会成员")

    @classmethod
    def scope_of(cls, role):
        """Where a post of this role sits: "city", "subdistrict" or "community"."""
        if role == cls.CITY_ADMIN:
            return "city"
        if role in SUBDISTRICT_ROLES:
            return "subdistrict"
        return "community"


SUBDISTRICT_ROLES = frozenset(
    {
        Role.SUBDISTRICT_SECRETARY,
        Role.CONSTRUCTION_DIRECTOR,
        Role.SUBDISTRICT_STAFF,
        Role.FINANCE_OFFICER,
    }
)
COMMUNITY_ROLES = frozenset({Role.COMMUNITY_SECRETARY, Role.COMMUNITY_STAFF, Role.SUPERVISOR})


class PostQuerySet(models.QuerySet):
    def current(self, on):
        """Posts in force on date `on`: started on or before it and not yet ended (end date exclusive)."""
        return self.filter(start_date__lte=on).filter(Q(end_date__isnull=True) | Q(end_date__gt=on))

    def covering(self, community):
        """Posts whose scope includes `community`."""
        return self.filter(
            Q(role=Role.CITY_ADMIN)
            | Q(subdistrict_id=community.subdistrict_id)
            | Q(community_id=community.pk)
        )


class Post(models.Model):
    """A person's term in a role, for a community or subdistrict (or the city). Rights come from posts.

    `end_date` is the first day the post no longer grants anything; history keeps the row.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="posts", verbose_name=_("用户")
    )
    role = models.CharField(_("职务"), max_length=32, choices=Role.choices)
    subdistrict = models.ForeignKey(
        Subdistrict, on_delete=models.PROTECT, null=True, blank=True, related_name="posts",
        verbose_name=_("街道"),
    )
    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, null=True, blank=True, related_name="posts",
        verbose_name=_("社区"),
    )
    start_date = models.DateField(_("任职起始日"))
    end_date = models.DateField(_("任职终止日"), null=True, blank=True,
                                help_text=_("自该日起不再享有权限；在任请留空。"))
    acting = models.BooleanField(_("代理（代）"), default=False, db_default=False,
                                 help_text=_("以代理身份任职：各类纸质材料的签名处在职务后印“（代）”。"))

    objects = PostQuerySet.as_manager()

    class Meta:
        ordering = ["role", "start_date"]
        verbose_name = _("任职")
        verbose_name_plural = _("任职")
        constraints = [
            models.CheckConstraint(
                name="post_scope_matches_role",
                condition=(
                    Q(role="city_admin", subdistrict__isnull=True, community__isnull=True)
                    | Q(role__in=sorted(r.value for r in SUBDISTRICT_ROLES), subdistrict__isnull=False,
                        community__isnull=True)
                    | Q(role__in=sorted(r.value for r in COMMUNITY_ROLES), subdistrict__isnull=True,
                        community__isnull=False)
                ),
            ),
            models.CheckConstraint(
                name="post_end_after_start",
                condition=Q(end_date__isnull=True) | Q(end_date__gt=models.F("start_date")),
            ),
        ]
        indexes = [models.Index(fields=["user", "start_date"])]

    def __str__(self):
        return f"{self.get_role_display()} · {self.scope_label}"

    @property
    def title(self):
        """The post as it is printed under a signature: "社区建设管理委员会主任（代）" for an acting one."""
        label = str(self.get_role_display())
        if not self.acting:
            return label
        return label + str(_("（代）"))

    @property
    def scope_label(self):
        if self.community_id:
            return str(self.community)
        if self.subdistrict_id:
            return str(self.subdistrict)
        return str(_("全市"))

    @property
    def scope(self):
        return Role.scope_of(self.role)

    def is_current(self, on):
        return self.start_date <= on and (self.end_date is None or self.end_date > on)

    def covers(self, community):
        if self.role == Role.CITY_ADMIN:
            return True
        if self.subdistrict_id:
            return self.subdistrict_id == community.subdistrict_id
        return self.community_id == community.pk
