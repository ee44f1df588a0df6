"""Dates on Chinese pages as people write them: 2026年12月2日 (settings.FORMAT_MODULE_PATH). Typed dates
stay ISO (<input type="date"> sends and shows 2026-12-02), so the first input format is ISO."""
DATE_FORMAT = "Y年n月j日"  # 2026年12月2日
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "Y年n月j日 H:i"  # 2026年12月2日 14:05
YEAR_MONTH_FORMAT = "Y年n月"
MONTH_DAY_FORMAT = "n月j日"  # 12月2日
SHORT_DATE_FORMAT = "Y年n月j日"
SHORT_DATETIME_FORMAT = "Y年n月j日 H:i"
FIRST_DAY_OF_WEEK = 1
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%Y/%m/%d"]
DATETIME_INPUT_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y/%m/%d %H:%M"]
