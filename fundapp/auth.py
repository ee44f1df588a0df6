from django.contrib.auth.backends import AllowAllUsersModelBackend, BaseBackend


class LoginBackend(AllowAllUsersModelBackend):
    """Authenticates inactive users too, so the login form can tell them their account is disabled (it
    still refuses to log them in) — but, unlike AllowAllUsersModelBackend, never restores an inactive
    user from a session: deactivating an account ends all its sessions at their next request."""

    def get_user(self, user_id):
        user = super().get_user(user_id)
        return user if user is not None and user.is_active else None


class CityAdminBackend(BaseBackend):
    """A city administrator in office holds exactly the back office's permissions their job needs
    (fundapp.admin_site.city_admin_permissions) — model-wide permissions of the admin, derived from the
    post, never stored and never object permissions (those are guardian's, from fundapp.rights). They are
    not superusers. Authenticates no one."""

    def get_all_permissions(self, user_obj, obj=None):
        if obj is not None or not user_obj.is_active or user_obj.is_anonymous:
            return set()
        if not hasattr(user_obj, "_city_admin_perm_cache"):
            from . import rights
            from .admin_site import city_admin_permissions

            user_obj._city_admin_perm_cache = (
                set(city_admin_permissions()) if rights.is_city_admin(user_obj) else set())
        return user_obj._city_admin_perm_cache

    def has_module_perms(self, user_obj, app_label):
        return any(perm.startswith(f"{app_label}.") for perm in self.get_all_permissions(user_obj))
