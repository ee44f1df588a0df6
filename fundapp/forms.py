from django import forms
from django.core import validators
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _("用户名或密码不正确，请重新输入（注意区分大小写）。"),
        "inactive": _("该账号已停用，请联系市委组织部管理员。"),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("用户名")
        # AuthenticationForm sets the username's max_length after the field is made, so it is not enforced:
        # a 10,000-character name reached authenticate() and django-axes' varchar(255) (a 500 on PostgreSQL).
        username = self.fields["username"]
        username.validators.append(validators.MaxLengthValidator(username.max_length))
        self.fields["password"].label = _("密码")


class WorkdayForm(forms.Form):
    start = forms.DateField(label=_("起始日期"), widget=forms.DateInput(attrs={"type": "date"}),
                            error_messages={"invalid": _("请输入有效日期，格式为 年-月-日，例如 2026-09-30。")})
    days = forms.IntegerField(label=_("工作日数"), min_value=1, max_value=60, initial=3,
                              error_messages={"invalid": _("请输入 1 到 60 之间的整数。")})
