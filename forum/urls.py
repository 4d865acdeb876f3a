from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from . import views

# The admin has no login form of its own: /admin/login/ sends people to the site's login,
# which counts failed attempts and locks an address out (ACCOUNT_RATE_LIMITS, "login_failed").
# A local `next` is kept; any other goes back to the admin.
admin.site.login = secure_admin_login(admin.site.login)

# A database outage met outside a view (in a middleware, in rendering a 404 page) is a 503 too.
handler500 = "forum.middleware.server_error"

# The reading pages first: Django tries the patterns in order on every request, and no two
# of these match the same address (tests/test_matrix.py resolves every one). The essays'
# own pages (revisions, publishing) share the /essays/<slug>/ prefix and come after.
urlpatterns = [
    path("", include("forum.discussion.urls")),
    path("", include("essays.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("", include("forum.accounts.urls")),
    path("", include("forum.moderation.urls")),
    path("", include("forum.subscriptions.urls")),
    path("accounts/", include("allauth.urls")),
]
