"""The BI views' comments on PostgreSQL, as the data dictionary (archive/dictionary.py) gave them at
revision 0011_search_char_prefix.

A migration that makes or remakes a view comments it from here (PostgreSQL drops a view's comments
with the view; MariaDB cannot comment views, SQLite keeps no comments). A view an older revision makes
has fewer columns: only the columns it has are commented. When the dictionary's words for a view
change, a new migration writes them (tests/test_migrations_frozen.py holds head's views to the
dictionary).
"""

from __future__ import annotations

from sqlalchemy import Connection, inspect

_SERIES = {
    "metric_id": "The metric (metric.id).",
    "measure": "The series the figure belongs to: subject|kind|family, e.g. 新增确诊病例|count|patient_case; null without a subject.",
    "place": "Where the figure holds: the place named nearest before it, else the article's place (dateline, title); official name, e.g. 湖北省, 全国, 美国.",
    "place_level": "country, province, prefecture, county or foreign.",
    "ref_start": "First day the figure holds for, resolved from as_of, period or the text against the issue date, e.g. 2020-01-01 for 1至5月.",
    "ref_end": "Last day the figure holds for (inclusive); equal to ref_start for a point such as 截至8月20日.",
    "ref_precision": "day, month, quarter or year when one such unit is named; span for any other stretch; issue when nothing is stated (then ref_start = ref_end = issue date).",
    "value_base": "value in unit_base (12公里 -> 12000 米, 3吨 -> 3000 千克); negative for a change that goes down.",
    "unit_base": "The base unit of the unit's family (米, 千克, 人, 元, %); the unit itself where no fixed factor exists (年, 美元, 人次/小时).",
    "value": "The number, normalised: 2万 -> 20000, 三 -> 3, 95% -> 95; money in 元.",
    "unit": "Measure word or unit: 人, 名, 起, %, 元, 个百分点 ...",
    "qualifier": "exact, approx, more_than, at_least, at_most or less_than.",
    "date": "Issue date.",
    "newspaper": "Newspaper name.",
    "article_id": "The article (article.id).",
    "title": "Title of the article.",
    "paragraph_id": "The paragraph (paragraph.id).",
    "surface": "The text as printed, qualifier words included, e.g. 9000余名.",
    "fact_key": "Digest of measure, place, ref_start, ref_end, value_base and unit_base: the same figure restated in several articles has one key (v_fact keeps the first).",
}

VIEWS: dict[str, tuple[str, dict[str, str]]] = {
    "v_article": (
        "One row per article, with its newspaper and issue and counts of what it holds.",
        {
            "article_id": "The article (article.id).",
            "newspaper": "Newspaper name.",
            "date": "Issue date.",
            "weekday": "Weekday as printed, e.g. 星期三 (checked against the date); worked out from the date when no page of the issue prints it.",
            "issue_number": "Running issue number, e.g. 4012 for 第4012期.",
            "page": "Page (版次) as printed without zero padding, e.g. 3 for 第03版, A3.",
            "page_name": "Page name (版名), e.g. 法治视点.",
            "title": "Title (主题).",
            "subtitle": "Subtitle (副题), without the leading ——.",
            "authors": "Contributors' names in byline order, joined by 、; null when there is no byline.",
            "section_count": "Sections of the article, the untitled opening (ordinal 0) included.",
            "paragraph_count": "Number of paragraphs.",
            "char_count": "Characters of body text (sum of paragraph.char_count).",
            "metric_count": "Metrics (quantitative facts) found in the article.",
        },
    ),
    "v_metric": (
        "One row per metric, with where it was printed: date, newspaper, article, section and paragraph.",
        {
            "metric_id": "The metric (metric.id).",
            "date": "Issue date.",
            "newspaper": "Newspaper name.",
            "article_id": "The article (article.id).",
            "title": "Title of the article.",
            "section_heading": "Heading of the section; null in the untitled opening.",
            "paragraph_id": "The paragraph (paragraph.id).",
            "surface": "The text as printed, qualifier words included, e.g. 9000余名.",
            "subject": "What is counted, as written in the text, e.g. 民警.",
            "subject_key": "The subject's head noun phrase, normalised so that GROUP BY gathers one measure across articles: 全局共有民警 -> 民警.",
            "value": "The number, normalised: 2万 -> 20000, 三 -> 3, 95% -> 95; money in 元.",
            "value_high": "Upper end of a range such as 5至10人, else null.",
            "unit": "Measure word or unit: 人, 名, 起, %, 元, 个百分点 ...",
            "qualifier": "exact, approx, more_than, at_least, at_most or less_than.",
            "kind": "count, percent, change, duration, money ...",
            "condition": "A condition the figure is stated under, e.g. 得分>=85分.",
            "as_of": "The date the figure holds at, as written, e.g. 截至8月20日.",
            "period": "The period the figure covers, as written, e.g. 7月以来.",
            "direction": "up or down, for changes.",
            "basis": "Comparison basis of a change: 同比 or 环比.",
            "role": "from or to, for the two ends of a change stated as a pair (由9个简化为5个); else null.",
        },
    ),
    "v_series": (
        "One row per metric that belongs to a series (measure not null): what, where, when, in base units, and where it was printed. Several rows may be one fact restated; v_fact keeps one.",
        _SERIES,
    ),
    "v_fact": (
        "v_series with each fact (fact_key) once: its first printing (earliest issue, then lowest article and metric id), and how often it was printed.",
        _SERIES | {"restated": "How many metrics state this fact (1 = printed once)."},
    ),
    "v_paragraph": (
        "One row per paragraph, with its date, newspaper, article title and section heading.",
        {
            "paragraph_id": "The paragraph (paragraph.id).",
            "date": "Issue date.",
            "newspaper": "Newspaper name.",
            "article_id": "The article (article.id).",
            "title": "Title of the article.",
            "section_heading": "Heading of the section; null in the untitled opening.",
            "ordinal": "Position in the article, from 1.",
            "lead": "Run-in heading that opens the paragraph (without its 。), else null.",
            "text": "The paragraph's text.",
            "char_count": "Characters (code points) in text.",
        },
    ),
}


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def comment_views(connection: Connection) -> int:
    """Comment every view that exists, and its columns that exist, on PostgreSQL; return how many
    statements ran (none on other engines)."""
    if connection.dialect.name != "postgresql":
        return 0
    insp = inspect(connection)
    existing = set(insp.get_view_names())
    statements = []
    for name, (description, columns) in VIEWS.items():
        if name not in existing:
            continue
        statements.append(f"COMMENT ON VIEW {name} IS {_sql_string(description)}")
        present = {c["name"] for c in insp.get_columns(name)}
        statements += [
            f'COMMENT ON COLUMN {name}."{column}" IS {_sql_string(text)}'
            for column, text in columns.items() if column in present
        ]
    percent = "%%" if connection.dialect.paramstyle in ("format", "pyformat") else "%"
    for statement in statements:  # no parameters are bound, yet such a driver reads % as a placeholder
        connection.exec_driver_sql(statement.replace("%", percent))
    return len(statements)
