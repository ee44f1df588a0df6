"""Atom feeds of the notices residents may read (public.city_selectors.feed_notices): the city's and one
community's, newest first. Each entry names the project, the kind of notice and its period, and links to the
notice on the community's public page; nothing but what that page shows."""
import datetime

from django.contrib.syndication.views import Feed
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _

from fundapp import clock
from fundapp.models import Community

from . import city_selectors


def _posted_at(notice):
    # A notice is posted on a day: the feed's time of it is the start of that day, Asia/Shanghai.
    return timezone.make_aware(datetime.datetime.combine(notice.posted_on, datetime.time()))


class _NoticesFeed(Feed):
    feed_type = Atom1Feed

    def item_title(self, notice):
        return _("%(community)s：%(kind)s“%(title)s”") % {
            "community": notice.proposal.community.name, "kind": notice.get_kind_display(),
            "title": notice.public_title}

    def item_description(self, notice):
        return _("%(kind)s，公示期 %(posted_on)s 至 %(last_day)s（%(days)s个工作日）。") % {
            "kind": notice.get_kind_display(), "posted_on": notice.posted_on.isoformat(),
            "last_day": notice.last_day.isoformat(), "days": notice.working_days}

    def item_link(self, notice):
        p = notice.proposal
        return reverse("public:community-year", args=[p.community.code, p.fund_year.year]) + f"#notice-{notice.pk}"

    def item_pubdate(self, notice):
        return _posted_at(notice)

    def item_updateddate(self, notice):
        return _posted_at(notice)


class CityNoticesFeed(_NoticesFeed):
    def title(self):
        return _("社区服务群众专项经费公示（全市）")

    def link(self):
        return reverse("public:index")

    def feed_url(self):
        return reverse("public:city-feed")

    def subtitle(self):
        return _("全市各社区的项目方案公示、无发票支付公示和项目完成公示，最新的在前。")

    def items(self):
        return city_selectors.feed_notices()


class CommunityNoticesFeed(_NoticesFeed):
    def get_object(self, request, code):
        return get_object_or_404(Community, code=code)

    def title(self, community):
        return _("%(community)s专项经费公示") % {"community": community.name}

    def link(self, community):
        return reverse("public:community-year", args=[community.code, clock.today().year])

    def feed_url(self, community):
        return reverse("public:community-feed", args=[community.code])

    def subtitle(self, community):
        return _("%(community)s的项目方案公示、无发票支付公示和项目完成公示，最新的在前。") % {
            "community": community.name}

    def items(self, community):
        return city_selectors.feed_notices(community)
