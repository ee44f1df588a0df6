from django.contrib.auth.backends import AllowAllUsersModelBackend


class LoginBackend(AllowAllUsersModelBackend):
    """Authenticates inactive users too, so the login form can tell them their account is disabled (it
    still refuses to log them in) — but, unlike AllowAllUsersModelBackend, never restores an inactive
    user from a session: deactivating an account ends all its sessions at their next request."""

    def get_user(self, user_id):
        user = super().get_user(user_id)
        return user if user is not None and user.is_active else None
