from .funds import FundYear, LedgerEntry
from .notify import Notification
from .org import Community, Post, Role, Subdistrict

__all__ = ["Community", "FundYear", "LedgerEntry", "Notification", "Post", "Role", "Subdistrict"]
