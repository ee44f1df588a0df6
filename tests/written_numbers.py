"""Numbers as people write them, for the privacy property tests (fundapp/tests/test_privacy.py,
tests/test_privacy_end_to_end.py): digits, grouped by spaces or dashes."""
from hypothesis import strategies as st


def digits(n):
    return st.text(alphabet="0123456789", min_size=n, max_size=n)


def grouped(value, sizes, separator):
    """`value` cut into groups of `sizes` (the rest, if any, as a last group), joined by `separator`."""
    out, i = [], 0
    for size in sizes:
        out.append(value[i:i + size])
        i += size
    if i < len(value):
        out.append(value[i:])
    return separator.join(out)
