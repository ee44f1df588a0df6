"""One vocabulary: the names docs/glossary.md retires are used nowhere people read — templates (pages,
PDFs), the English catalogue, the Python sources' messages, the guides."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ["approvals", "audit", "batches", "desk", "disclosure", "fundapp", "public", "workdays"]


def retired():
    """({Chinese synonym: term}, {English synonym: term}) from the glossary's last two columns."""
    zh, en = {}, {}
    for line in (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) != 5 or cells[0] in ("中文", "---"):
            continue
        zh.update({word: cells[0] for word in re.findall(r"`([^`]+)`", cells[3])})
        en.update({word: cells[1] for word in re.findall(r"`([^`]+)`", cells[4])})
    return zh, en


def english_pattern(word):
    return re.compile(r"(?<![A-Za-z])" + re.escape(word) + r"(?![A-Za-z])", re.IGNORECASE)


def test_the_glossary_names_the_money_terms_and_what_not_to_call_them():
    zh, en = retired()
    assert zh["预留中"] == "已预留" and zh["已支出"] == "已结算" and en["Spent"] == "Settled"


def test_no_page_paper_message_or_guide_uses_a_retired_chinese_name():
    zh, _en = retired()
    files = [*ROOT.glob("templates/**/*.html"), *ROOT.glob("docs/guide/*.zh.md"), *ROOT.glob("docs/guide/README.md")]
    for app in APPS:
        files += [p for p in (ROOT / app).rglob("*.py") if "tests" not in p.parts and "migrations" not in p.parts]
    found = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        found += [f"{path.relative_to(ROOT)}: {word} (→ {term})" for word, term in zh.items() if word in text]
    catalogue = (ROOT / "locale" / "en" / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    msgids = "\n".join(re.findall(r'^msgid (".*")$', catalogue, re.M))
    found += [f"django.po msgid: {word} (→ {term})" for word, term in zh.items() if word in msgids]
    assert not found, "\n".join(found)


def test_the_english_catalogue_and_guides_use_the_glossarys_english():
    _zh, en = retired()
    catalogue = (ROOT / "locale" / "en" / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    # msgstr lines and their continuations
    translated = "\n".join(line for line in catalogue.splitlines()
                           if line.startswith(("msgstr", '"')) and not line.startswith('"Content-'))
    texts = {"django.po msgstr": translated}
    texts.update({str(p.relative_to(ROOT)): p.read_text(encoding="utf-8") for p in ROOT.glob("docs/guide/*.en.md")})
    found = [f"{where}: {word} (→ {term})" for where, text in texts.items() for word, term in en.items()
             if english_pattern(word).search(text)]
    assert not found, "\n".join(found)
