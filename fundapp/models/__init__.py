from .funds import FundYear, LedgerEntry
from .notify import Delivery, Notification, NotificationPreference
from .org import Community, Post, Role, Subdistrict
from .search import SearchEntry

__all__ = ["Community", "Delivery", "FundYear", "LedgerEntry", "Notification", "NotificationPreference", "Post", "Role", "SearchEntry", "Subdistrict"]
