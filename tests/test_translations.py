"""The English catalogue is complete, current and safe to compile.

The msgids are the Simplified Chinese source strings; English is the translation. When one of these tests
fails after a change to a Python file or a template, run

    python manage.py makemessages -l en --ignore .venv --ignore var --ignore bench --no-obsolete

translate the new entries in locale/en/LC_MESSAGES/django.po (and remove their "#, fuzzy" flags), then
`python manage.py compilemessages --ignore .venv`.

No database is needed. The "strings in the code" check runs makemessages on a throw-away copy of the
source tree, so it never writes into the working tree (not even its temporary .pot or template .py files).
"""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "locale" / "en" / "LC_MESSAGES" / "django.po"
MAKEMESSAGES_IGNORES = [".venv", "var", "bench"]
# Never copied into the scratch tree: not sources, or large.
COPY_SKIP = {".git", ".venv", "venv", "var", "bench", "node_modules", "__pycache__", ".hypothesis",
             ".pytest_cache", ".mypy_cache", "test-results", "screenshots", "media"}
# Translations other tests and the documentation rely on, word for word.
FIXED = {
    "用户名或密码不正确，请重新输入（注意区分大小写）。":
        "The username or password is incorrect. Please try again (both are case-sensitive).",
    "该账号已停用，请联系市委组织部管理员。":
        "This account has been disabled. Please contact the City Organisation Department administrator.",
    "我的工作台": "My desk",
}
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
PERCENT_NAMED = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
BRACE_NAMED = re.compile(r"(?<!\{)\{(\w*)(?:[.\[!:][^{}]*)?\}(?!\})")
GETTEXT_ENV = {**os.environ, "LC_ALL": "C", "LANGUAGE": "C"}


# --- a small PO reader ------------------------------------------------------------------------------

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}


def _unquote(text):
    text = text.strip()
    if not (len(text) >= 2 and text[0] == text[-1] == '"'):
        raise ValueError(f"not a quoted PO string: {text!r}")
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), text[1:-1])


def read_po(path):
    """The entries of a PO file as dicts: msgctxt, msgid, msgid_plural, msgstr (list), flags, line.

    Obsolete entries (#~) are skipped. Good enough for the files msgmerge writes; raises on anything else.
    """
    return parse_po(Path(path).read_text(encoding="utf-8"), path)


def parse_po(text, path="<po>"):
    entries, entry, field = [], None, None

    def new_entry(lineno):
        return {"msgctxt": None, "msgid": None, "msgid_plural": None, "msgstr": {}, "flags": set(),
                "line": lineno}

    def finish():
        if entry is not None and entry["msgid"] is not None:
            entry["msgstr"] = [entry["msgstr"][k] for k in sorted(entry["msgstr"])]
            entries.append(entry)

    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            continue
        if line.startswith("#"):
            # A comment after a complete entry starts the next one.
            if entry is not None and entry["msgstr"]:
                finish()
                entry, field = None, None
            if entry is None:
                entry = new_entry(lineno)
            if line.startswith("#,"):
                entry["flags"].update(f.strip() for f in line[2:].split(",") if f.strip())
            continue
        keyword, _, rest = line.partition(" ")
        if line.startswith('"'):
            if field is None:
                raise ValueError(f"{path}:{lineno}: continuation line outside an entry")
            kind, index = field
            if kind == "msgstr":
                entry["msgstr"][index] += _unquote(line)
            else:
                entry[kind] += _unquote(line)
            continue
        if keyword in ("msgctxt", "msgid") and (entry is None or entry["msgstr"]):
            finish()
            entry = new_entry(lineno)
        elif entry is None:
            raise ValueError(f"{path}:{lineno}: {keyword} before msgid")
        match = re.fullmatch(r"msgstr(?:\[(\d+)\])?", keyword)
        if match:
            index = int(match.group(1) or 0)
            entry["msgstr"][index] = _unquote(rest)
            field = ("msgstr", index)
        elif keyword in ("msgctxt", "msgid", "msgid_plural"):
            entry[keyword] = _unquote(rest)
            field = (keyword, None)
        else:
            raise ValueError(f"{path}:{lineno}: unexpected line {raw!r}")
    finish()
    return entries


def _without_header(entries):
    return [e for e in entries if e["msgid"] != "" or e["msgctxt"] is not None]


def _messages(path):
    """The entries of a PO file other than the header."""
    return _without_header(read_po(path))


def _show(entry):
    context = f" [{entry['msgctxt']}]" if entry["msgctxt"] is not None else ""
    return f"line {entry['line']}: {entry['msgid']!r}{context}"


def _need(program):
    if shutil.which(program) is None:
        pytest.fail(f"{program} not found: install GNU gettext (apt-get install gettext)")


# --- the catalogue itself --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def entries():
    assert CATALOGUE.is_file(), f"{CATALOGUE} is missing: run makemessages -l en (see this file's docstring)"
    return _messages(CATALOGUE)


def test_header_is_english_utf8_and_not_fuzzy():
    header = next(e for e in read_po(CATALOGUE) if e["msgid"] == "" and e["msgctxt"] is None)
    # msgfmt drops a fuzzy header, and with it the charset and plural forms.
    assert "fuzzy" not in header["flags"]
    assert "Language: en\n" in header["msgstr"][0]
    assert "charset=UTF-8" in header["msgstr"][0]


def test_catalogue_has_entries(entries):
    assert len(entries) > 100


def test_no_untranslated_entry(entries):
    empty = [_show(e) for e in entries if not e["msgstr"] or any(not s.strip() for s in e["msgstr"])]
    assert not empty, "untranslated entries in %s:\n%s" % (CATALOGUE, "\n".join(empty))


def test_no_fuzzy_entry(entries):
    fuzzy = [_show(e) for e in entries if "fuzzy" in e["flags"]]
    assert not fuzzy, "fuzzy entries (check the English, then remove the flag):\n" + "\n".join(fuzzy)


def test_no_translation_left_in_chinese(entries):
    chinese = [_show(e) for e in entries if any(HAN.search(s) for s in e["msgstr"])]
    assert not chinese, "msgstr still in Chinese:\n" + "\n".join(chinese)


def test_gettext_agrees_nothing_is_untranslated_or_fuzzy(entries):
    # An independent count, in case the reader above misparses something.
    _need("msgattrib")
    for option in ("--untranslated", "--only-fuzzy"):
        result = subprocess.run(["msgattrib", option, "--no-obsolete", "--no-wrap", str(CATALOGUE)],
                                capture_output=True, text=True, env=GETTEXT_ENV, timeout=60)
        assert result.returncode == 0, result.stderr
        listed = [_show(e) for e in _without_header(parse_po(result.stdout, f"msgattrib {option}"))]
        assert not listed, f"msgattrib {option} lists:\n" + "\n".join(listed)
    stats = subprocess.run(["msgfmt", "--statistics", "-o", os.devnull, str(CATALOGUE)],
                           capture_output=True, text=True, env=GETTEXT_ENV, timeout=60)
    assert stats.returncode == 0, stats.stderr
    assert re.fullmatch(rf"{len(entries)} translated messages?\.", stats.stderr.strip()), stats.stderr


def test_fixed_translations():
    found = {e["msgid"]: e["msgstr"][0] for e in _messages(CATALOGUE) if e["msgctxt"] is None}
    for msgid, msgstr in FIXED.items():
        assert msgid in found, f"{msgid!r} is no longer in the catalogue"
        assert found[msgid] == msgstr


# --- placeholders -----------------------------------------------------------------------------------

def test_msgfmt_check_format_passes():
    _need("msgfmt")
    result = subprocess.run(["msgfmt", "--check-format", "-o", os.devnull, str(CATALOGUE)],
                            capture_output=True, text=True, env=GETTEXT_ENV, timeout=60)
    assert result.returncode == 0, result.stderr


def test_placeholders_match(entries):
    # Also for entries xgettext did not flag as python-format (msgfmt checks only flagged ones).
    wrong = []
    for entry in entries:
        sources = [entry["msgid"]] + ([entry["msgid_plural"]] if entry["msgid_plural"] is not None else [])
        for pattern in (PERCENT_NAMED, BRACE_NAMED):
            wanted = set().union(*(pattern.findall(s) for s in sources))
            for msgstr in entry["msgstr"]:
                got = set(pattern.findall(msgstr))
                if got != wanted:
                    wrong.append(f"{_show(entry)}: msgid has {sorted(wanted)}, msgstr has {sorted(got)}")
    assert not wrong, "placeholders differ:\n" + "\n".join(wrong)


# --- the catalogue against the code -----------------------------------------------------------------

def _copy_ignore(directory, names):
    skip = {name for name in names if name in COPY_SKIP}
    # Any other virtual environment, whatever its name.
    skip.update(name for name in names if (Path(directory) / name / "pyvenv.cfg").exists())
    return skip


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """{catalogue path: set of (msgctxt, msgid)} that makemessages finds in the code today.

    Runs makemessages on a copy of the tree with a minimal settings module whose LOCALE_PATHS point into
    the copy, so nothing is written under ROOT whatever happens.
    """
    _need("xgettext")
    _need("msgmerge")
    scratch = tmp_path_factory.mktemp("makemessages")
    tree = scratch / "tree"
    shutil.copytree(ROOT, tree, symlinks=True, ignore=_copy_ignore)
    settings_dir = scratch / "settings"
    settings_dir.mkdir()
    (settings_dir / "i18n_check_settings.py").write_text(
        "SECRET_KEY = 'makemessages-check'\n"
        "USE_I18N = True\n"
        "INSTALLED_APPS = []\n"
        f"LOCALE_PATHS = [{str(tree / 'locale')!r}]\n",
        encoding="utf-8",
    )
    env = {key: value for key, value in GETTEXT_ENV.items() if key not in ("DJANGO_SETTINGS_MODULE",)}
    env.update(PYTHONPATH=str(settings_dir), DJANGO_SETTINGS_MODULE="i18n_check_settings")
    command = [sys.executable, "-m", "django", "makemessages", "-l", "en", "--no-obsolete", "--keep-pot",
               *(arg for name in MAKEMESSAGES_IGNORES for arg in ("--ignore", name))]
    result = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"makemessages failed:\n{result.stdout}\n{result.stderr}"
    found = {}
    for pot in tree.rglob("django.pot"):
        real = ROOT / pot.parent.relative_to(tree) / "en" / "LC_MESSAGES" / "django.po"
        found[real] = {(e["msgctxt"], e["msgid"]) for e in _messages(pot)}
    assert found, f"makemessages wrote no .pot file:\n{result.stdout}\n{result.stderr}"
    return found


def _describe(keys):
    return "\n".join(f"  {msgid!r}" + (f" [context {ctx!r}]" if ctx is not None else "")
                     for ctx, msgid in sorted(keys, key=lambda k: (k[1], k[0] or "")))


def test_every_string_in_the_code_is_in_the_catalogue(extracted):
    for catalogue, in_code in extracted.items():
        assert catalogue.is_file(), f"no English catalogue at {catalogue}: run makemessages -l en"
        in_catalogue = {(e["msgctxt"], e["msgid"]) for e in _messages(catalogue)}
        missing = in_code - in_catalogue
        assert not missing, (
            f"{len(missing)} string(s) marked for translation are not in {catalogue.relative_to(ROOT)} "
            f"(run makemessages and translate them):\n{_describe(missing)}"
        )


def test_catalogue_has_no_stale_entries(extracted):
    for catalogue, in_code in extracted.items():
        in_catalogue = {(e["msgctxt"], e["msgid"]) for e in _messages(catalogue)}
        stale = in_catalogue - in_code
        assert not stale, (
            f"{len(stale)} entr(y/ies) in {catalogue.relative_to(ROOT)} are no longer used in the code "
            f"(run makemessages with --no-obsolete):\n{_describe(stale)}"
        )
