from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from desk import views

from . import health, twofactor
from .publicurls import public_patterns

urlpatterns = [
    path("", views.home, name="home"),
    # For the load balancer: database, Redis, beat, disk (fundapp.health).
    path("healthz", health.healthz, name="healthz"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("login/verify/", twofactor.verify, name="two-factor-verify"),
    path("login/setup/", twofactor.setup, name="two-factor-setup"),
    path("workdays/", views.workday_calculator, name="workday-calculator"),
    path("workdays/", include("workdays.urls")),
    path("ledgers/", views.ledgers, name="ledgers"),
    path("notifications/<int:pk>/open/", views.notification_open, name="notification-open"),
    path("notifications/", include("desk.notification_urls")),
    path("ledgers/<slug:code>/<int:year>/", views.ledger, name="ledger"),
    path("record/<slug:code>/", views.community_record, name="community-record"),
    path("", include("approvals.urls")),
    path("finance/", include("desk.finance_urls")),
    path("city/setup/", include("desk.city_setup_urls")),
    path("city/allocations/", include("desk.city_allocation_urls")),
    path("city/posts/", include("desk.city_posts_urls")),
    path("dashboard/", include("desk.dashboard_urls")),
    # Residents' pages: the language in the address (/public/zh/…, /public/en/…), so that a shared cache
    # keys on the URL alone; the bare /public/… redirects to the reader's language.
    *public_patterns(path("", include("disclosure.urls")), path("", include("public.urls"))),
    path("public/", include("public.bare_urls")),
    path("batches/", include("batches.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]

# The database unreachable (PostgreSQL restarting) → a 503 "try again in a moment" page; anything else → 500.html.
handler500 = "fundapp.unavailable.server_error"
