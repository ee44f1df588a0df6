from django.utils.translation import gettext_lazy as _

# Audit actions that are not transitions of the chain, as the timeline shows them.
OTHER_ACTIONS = {
    "proposal.create": _("起草项目"),
    "proposal.update": _("修改方案"),
    "objection.record": _("登记异议"),
    "objection.answer": _("答复异议"),
    "supervision.opinion": _("监督意见"),
    "need.record": _("登记需求"),
    "review.escalated": _("审批超期，已上报"),
    "feedback.record": _("居民满意度反馈"),
}
