from django import forms
from django.utils.translation import gettext_lazy as _

from .services import REASON_MAX

# The longest published notice is about 1,500 characters; anything far longer is not one.
NOTICE_MAX = 20000


class NoticeForm(forms.Form):
    text = forms.CharField(
        label=_("国务院办公厅通知全文"), max_length=NOTICE_MAX, strip=False,
        widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "false"}),
        help_text=_("从中国政府网复制《国务院办公厅关于XXXX年部分节假日安排的通知》的全文，原样粘贴。"),
        error_messages={"required": _("请粘贴通知全文。"),
                        "max_length": _("粘贴的内容过长（最多 %(limit_value)d 字），请只粘贴通知本身。")},
    )
    reason = forms.CharField(
        label=_("依据（文件名称或文号）"), max_length=REASON_MAX, required=False,
        help_text=_("留空则记为“国务院办公厅关于XXXX年部分节假日安排的通知”。"),
    )


class DayForm(forms.Form):
    STATUS_CHOICES = [
        ("rest", _("休息（节假日）")),
        ("work", _("上班（调休上班日）")),
        ("remove", _("撤销调整，恢复默认")),
    ]

    day = forms.DateField(label=_("日期"), widget=forms.DateInput(attrs={"type": "date"}),
                          error_messages={"invalid": _("请输入有效日期，格式为 年-月-日，例如 2027-02-06。")})
    status = forms.ChoiceField(label=_("调整为"), choices=STATUS_CHOICES)
    reason = forms.CharField(label=_("原因"), max_length=REASON_MAX,
                             help_text=_("例如：2027年春节调休（国务院办公厅通知）"),
                             error_messages={"required": _("请填写调整原因。")})

    def override(self):
        """The change this form asks for: {day: True/False/None}."""
        status = self.cleaned_data["status"]
        return {self.cleaned_data["day"]: {"rest": False, "work": True, "remove": None}[status]}
