from .funds import FundYear, LedgerEntry
from .notify import Delivery, Notification, NotificationPreference
from .org import Community, Post, Role, Subdistrict

__all__ = ["Community", "Delivery", "FundYear", "LedgerEntry", "Notification", "NotificationPreference", "Post", "Role", "Subdistrict"]
