from .money import FundYear, LedgerEntry
from .org import Community, Post, Role, Subdistrict

__all__ = ["Community", "FundYear", "LedgerEntry", "Post", "Role", "Subdistrict"]
