"""The city administrator's posts: those in force (searched and paged), and a post handed over at an election.

Thin: the act is fundapp.services.org.post_hand_over (rights checked there too); the list of what waits for the
post, shown before confirming, is approvals.handover.pending_for_post — what the act will move.
"""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from approvals.handover import pending_for_post
from fundapp import clock, rights
from fundapp.errors import DomainError
from fundapp.models import Post
from fundapp.services import org as org_services

from .city_forms import HandOverForm

PAGE = 50


def _city_admin(request):
    if not rights.is_city_admin(request.user):
        raise PermissionDenied


@login_required
def posts(request):
    _city_admin(request)
    q = request.GET.get("q", "").strip()[:50]
    found = (Post.objects.current(clock.today()).select_related("user", "community", "subdistrict")
             .order_by("subdistrict__name", "community__name", "role", "pk"))
    if q:
        found = found.filter(Q(user__username__icontains=q) | Q(user__first_name__icontains=q)
                             | Q(user__last_name__icontains=q) | Q(community__name__icontains=q)
                             | Q(community__code=q) | Q(subdistrict__name__icontains=q))
    page = Paginator(found, PAGE).get_page(request.GET.get("page"))
    return render(request, "desk/city/posts.html", {"page": page, "q": q})


@login_required
@require_http_methods(["GET", "POST"])
def hand_over(request, pk):
    _city_admin(request)
    today = clock.today()
    post = get_object_or_404(Post.objects.select_related("user", "community", "subdistrict"), pk=pk)
    if not post.is_current(today):
        messages.error(request, _("只能交接在任的职务。"))
        return redirect("city-posts:posts")
    form = HandOverForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            done = org_services.post_hand_over(post=post, by=request.user, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("已交接：%(post)s 由 %(new)s 接任，%(n)s 项待办已转给接任人（通知 %(told)s 条）。") % {
                "post": done.new, "new": done.new.user.get_full_name() or done.new.user.get_username(),
                "n": len(done.pending), "told": done.notified})
            return redirect("city-posts:posts")
    return render(request, "desk/city/hand_over.html", {
        "post": post, "form": form, "pending": pending_for_post(post, today, stored=False),
    })
