"""The read commands' queries as they were written on the ORM before the lean read path (archive.readdb):
the reference test_interactive compares today's readers with, on every engine. Not used by archive."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive import columns
from archive.output import decimal_number
from archive.search import _hit
from archive.searchkey import ARTICLE_FIELDS, split_key
from archive.searchtext import Query
from archive.models import Article, ArticleAuthor, Issue, Metric, Newspaper, Paragraph, Section, Source, SourcePath

TABLES = (Newspaper, Issue, Source, SourcePath, Article, ArticleAuthor, Section, Paragraph, Metric)


class NotFound(LookupError):
    """No row with the id asked for."""


def stats(session: Session) -> dict:
    counts = {m.__tablename__: session.scalar(select(func.count()).select_from(m)) for m in TABLES}
    first, last = session.execute(select(func.min(Issue.date), func.max(Issue.date))).one()
    return {
        "rows": counts,
        "newspapers": list(session.scalars(select(Newspaper.name).order_by(Newspaper.name))),
        "first_issue": first.isoformat() if first else None,
        "last_issue": last.isoformat() if last else None,
    }


def list_issues(session: Session, newspaper: str | None = None) -> list[dict]:
    q = (
        select(
            Issue.id,
            Newspaper.name.label("newspaper"),
            Issue.date,
            Issue.weekday,
            Issue.number,
            select(func.count(Article.id)).where(Article.issue_id == Issue.id).scalar_subquery().label("articles"),
        )
        .join(Newspaper)
        .order_by(Issue.date, Newspaper.name)
    )
    if newspaper:
        q = q.where(Newspaper.name == newspaper)
    return [_plain(r._asdict()) for r in session.execute(q)]


def list_articles(
    session: Session,
    date: dt.date | None = None,
    newspaper: str | None = None,
    *,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    limit: int | None = None,
) -> list[dict]:
    """Articles in issue order (date, newspaper, file, position in it), with the page each is on."""
    q = (
        select(
            Article.id,
            Newspaper.name.label("newspaper"),
            Issue.date,
            Article.page,
            Article.page_name,
            Article.ordinal,
            Article.title,
            Article.byline,
            Article.paragraph_count.label("paragraphs"),
            Article.char_count.label("chars"),
        )
    )
    q = _with_issue(q).order_by(Issue.date, Newspaper.name, Article.source_id, Article.ordinal)
    if date:
        q = q.where(Issue.date == date)
    if date_from:
        q = q.where(Issue.date >= date_from)
    if date_to:
        q = q.where(Issue.date <= date_to)
    if newspaper:
        q = q.where(Newspaper.name == newspaper)
    if limit is not None:
        q = q.limit(limit)
    return [_plain(r._asdict()) for r in session.execute(q)]


def _with_issue(q):
    """Join a query over articles to their issue and newspaper (for dates, names and filters on them)."""
    return q.join(Issue, Article.issue_id == Issue.id).join(Newspaper, Issue.newspaper_id == Newspaper.id)


def _plain(d: dict) -> dict:
    """JSON-ready values: ISO dates, exact decimals as numbers without trailing zeros."""
    out = {}
    for k, v in d.items():
        if isinstance(v, (dt.date, dt.datetime)):
            v = v.isoformat()
        elif isinstance(v, Decimal):
            v = decimal_number(v)
        out[k] = v
    return out


METRIC_FIELDS = ("id", *columns.METRIC_FIELDS)


def article_document(session: Session, article_id: int) -> dict:
    """{"newspaper", "issue", "article"} for one article, rebuilt from the database (metrics included)."""
    article = session.get(Article, article_id)
    if article is None:
        raise NotFound(f"no article with id {article_id}")
    issue = session.get(Issue, article.issue_id)
    paper = session.get(Newspaper, issue.newspaper_id)
    metrics: dict[int, list[dict]] = {}
    for m in session.scalars(select(Metric).where(Metric.article_id == article_id).order_by(Metric.paragraph_id, Metric.ordinal)):
        metrics.setdefault(m.paragraph_id, []).append(_plain({f: getattr(m, f) for f in METRIC_FIELDS}))
    sections = []
    for s in article.sections:
        sections.append(
            {
                "id": s.id,
                "ordinal": s.ordinal,
                "heading": s.heading,
                "paragraphs": [
                    {
                        "id": p.id,
                        "ordinal": p.ordinal,
                        "line_start": p.line_start,
                        "line_end": p.line_end,
                        "lead": p.lead,
                        "text": p.text,
                        "char_count": p.char_count,
                        "metrics": metrics.get(p.id, []),
                    }
                    for p in s.paragraphs
                ],
            }
        )
    return {
        "newspaper": {
            "id": paper.id,
            "name": paper.name,
            "cn_serial": paper.cn_serial,
            "postal_code": paper.postal_code,
            "website": paper.website,
            "email": paper.email,
            "hotline": paper.hotline,
        },
        "issue": {"id": issue.id, "date": issue.date.isoformat(), "weekday": issue.weekday, "number": issue.number},
        "article": {
            "id": article.id,
            "source_id": article.source_id,
            "ordinal": article.ordinal,
            "title": article.title,
            "subtitle": article.subtitle,
            "byline": article.byline,
            "kicker": article.kicker,
            "page": article.page,
            "page_name": article.page_name,
            "source_url": article.source_url,
            "contributors": [{"role": a.role, "name": a.name} for a in article.authors],
            "char_count": article.char_count,
            "paragraph_count": article.paragraph_count,
            "sections": sections,
        },
    }


def list_metrics(
    session: Session,
    *,
    unit: str | None = None,
    kind: str | None = None,
    subject: str | None = None,
    subject_key: str | None = None,
    newspaper: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> list[dict]:
    """Metrics with where they were stated: date, newspaper, article, subject, value, unit, qualifier."""
    q = (
        select(
            Metric.id,
            Issue.date,
            Newspaper.name.label("newspaper"),
            Article.id.label("article_id"),
            Article.title,
            Metric.subject,
            Metric.subject_key,
            Metric.value,
            Metric.value_high,
            Metric.unit,
            Metric.qualifier,
            Metric.kind,
            Metric.surface,
        )
        .join(Article, Metric.article_id == Article.id)
        .join(Paragraph, Metric.paragraph_id == Paragraph.id)
    )
    q = _with_issue(q).order_by(Issue.date, Article.id, Paragraph.ordinal, Metric.ordinal)
    if unit:
        q = q.where(Metric.unit == unit)
    if kind:
        q = q.where(Metric.kind == kind)
    if subject:
        q = q.where(Metric.subject.contains(subject, autoescape=True))
    if subject_key:
        q = q.where(Metric.subject_key == subject_key)
    if newspaper:
        q = q.where(Newspaper.name == newspaper)
    if date_from:
        q = q.where(Issue.date >= date_from)
    if date_to:
        q = q.where(Issue.date <= date_to)
    return [_plain(r._asdict()) for r in session.execute(q)]


_ARTICLE_COLUMNS = {"title": Article.title, "subtitle": Article.subtitle, "kicker": Article.kicker}


def hits_for_keys(session: Session, q: Query, keys: list[int]) -> list[dict]:
    """The hits for index keys, in the order given."""
    wanted: dict[str, list[int]] = {}
    for field, rid in map(split_key, keys):
        wanted.setdefault(field, []).append(rid)
    found: dict[tuple[str, int], dict] = {}
    if wanted.get("paragraph"):
        rows = _with_paper(
            select(Paragraph.id, Paragraph.text, Article.id, Article.title, Section.heading, Issue.date, Newspaper.name)
            .join(Section, Section.id == Paragraph.section_id)
            .join(Article, Article.id == Paragraph.article_id)
        ).where(Paragraph.id.in_(wanted["paragraph"]))
        for pid, body, aid, title, heading, date, paper in session.execute(rows):
            found[("paragraph", pid)] = _hit(q, "paragraph", paper, date, aid, title, heading, pid, body)
    if wanted.get("heading"):
        rows = _with_paper(
            select(Section.id, Section.heading, Article.id, Article.title, Issue.date, Newspaper.name)
            .join(Article, Article.id == Section.article_id)
        ).where(Section.id.in_(wanted["heading"]))
        for sid, heading, aid, title, date, paper in session.execute(rows):
            found[("heading", sid)] = _hit(q, "heading", paper, date, aid, title, heading, None, heading)
    article_ids = {rid for field in ARTICLE_FIELDS for rid in wanted.get(field, ())}
    if article_ids:
        rows = _with_paper(
            select(Article.id, Article.title, Article.subtitle, Article.kicker, Issue.date, Newspaper.name)
        ).where(Article.id.in_(article_ids))
        for aid, title, subtitle, kicker, date, paper in session.execute(rows):
            texts = {"title": title, "subtitle": subtitle, "kicker": kicker}
            for field in ARTICLE_FIELDS:
                if texts[field]:
                    found[(field, aid)] = _hit(q, field, paper, date, aid, title, None, None, texts[field])
    return [found[split_key(k)] for k in keys if split_key(k) in found]


def _with_paper(q):
    return q.join(Issue, Issue.id == Article.issue_id).join(Newspaper, Newspaper.id == Issue.newspaper_id)
