"""The schema: typed SQLAlchemy models. Table and column names are a public interface for SQL users.

Every table and column carries a `comment=`: together they are the data dictionary.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# MySQL's TEXT holds 64 KB; a paragraph or a whole source file can be far longer.
LongText = Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")
# Exact decimals: 38 digits, 10 after the point, on every engine.
Exact = Numeric(38, 10, asdecimal=True)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Newspaper(Base):
    __tablename__ = "newspaper"
    __table_args__ = {"comment": "A newspaper title, with the registration data printed in its masthead."}

    id: Mapped[int] = mapped_column(primary_key=True, comment="Surrogate key.")
    name: Mapped[str] = mapped_column(String(200), unique=True, comment="Name as printed in the masthead, e.g. 内蒙古法制报.")
    cn_serial: Mapped[str | None] = mapped_column(String(40), comment="国内统一连续出版物号, e.g. CN 15-0025.")
    postal_code: Mapped[str | None] = mapped_column(String(40), comment="邮发代号 with dashes normalised, e.g. 15-6.")
    website: Mapped[str | None] = mapped_column(String(300), comment="Website printed in the masthead.")
    email: Mapped[str | None] = mapped_column(String(300), comment="E-mail address printed in the masthead.")
    hotline: Mapped[str | None] = mapped_column(String(300), comment="新闻热线 as printed, e.g. (0471)4687274 4683057.")

    issues: Mapped[list[Issue]] = relationship(back_populates="newspaper")

    def __repr__(self) -> str:
        return f"Newspaper(id={self.id!r}, name={self.name!r})"


WEEKDAY_COMMENT = "Weekday as printed, e.g. 星期三 (checked against the date); worked out from the date when no page of the issue prints it."


class Issue(Base):
    __tablename__ = "issue"
    __table_args__ = (
        UniqueConstraint("newspaper_id", "date"),
        {"comment": "One dated issue of a newspaper."},
    )

    id: Mapped[int] = mapped_column(primary_key=True, comment="Surrogate key.")
    newspaper_id: Mapped[int] = mapped_column(ForeignKey("newspaper.id"), index=True, comment="The newspaper (newspaper.id).")
    date: Mapped[dt.date] = mapped_column(Date, comment="Publication date.")
    weekday: Mapped[str | None] = mapped_column(String(10), comment=WEEKDAY_COMMENT)
    number: Mapped[int | None] = mapped_column(Integer, comment="Running issue number, e.g. 4012 for 第4012期.")

    newspaper: Mapped[Newspaper] = relationship(back_populates="issues")

    def __repr__(self) -> str:
        return f"Issue(id={self.id!r}, date={self.date!r}, number={self.number!r})"


class Source(Base):
    __tablename__ = "source"
    __table_args__ = {"comment": "One loaded file: the provenance of every row parsed from it."}

    id: Mapped[int] = mapped_column(primary_key=True, comment="Surrogate key.")
    path: Mapped[str] = mapped_column(String(700), index=True, comment="Absolute path of the file when it was loaded; every path its bytes were seen at is in source_path.")
    sha256: Mapped[str] = mapped_column(String(64), unique=True, comment="SHA-256 of the file's bytes (hex).")
    encoding: Mapped[str] = mapped_column(String(20), comment="Encoding the bytes were decoded with, e.g. utf-8, gb18030.")
    byte_count: Mapped[int] = mapped_column(Integer, comment="Size of the file in bytes.")
    text: Mapped[str] = mapped_column(LongText, comment="The decoded text, kept so that pages can be re-parsed without the file.")
    loaded_at: Mapped[dt.datetime] = mapped_column(DateTime, comment="When the file was loaded (UTC).")
    parser_version: Mapped[str] = mapped_column(String(20), comment="Version of the parser and extractor that produced the rows.")
    format: Mapped[str | None] = mapped_column(String(20), comment="Layout the text was parsed as: page, article or markdown.")
    options: Mapped[str | None] = mapped_column(Text, comment="What the load options and file name said about the file (JSON: newspaper, date, page ...), reused by reparse.")

    def __repr__(self) -> str:
        return f"Source(id={self.id!r}, path={self.path!r})"


class SourcePath(Base):
    __tablename__ = "source_path"
    __table_args__ = {"comment": "Every path a loaded file was seen at: byte-identical files at other paths (a page saved twice) are recorded here, not loaded again."}

    id: Mapped[int] = mapped_column(primary_key=True, comment="Surrogate key.")
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id", ondelete="CASCADE"), index=True, comment="The file's bytes as loaded (source.id).")
    path: Mapped[str] = mapped_column(String(700), unique=True, comment="Absolute path the file was seen at.")
    page: Mapped[str | None] = mapped_column(String(20), comment="Page (版次) the load gave this path (--page, or the file name under --name-pattern {page}), else null.")
    ordinal: Mapped[int | None] = mapped_column(Integer, comment="Position on the page the file name gives under --name-pattern {ordinal}, else null.")
    seen_at: Mapped[dt.datetime] = mapped_column(DateTime, comment="When a load first saw the file at this path (UTC).")

    def __repr__(self) -> str:
        return f"SourcePath(source_id={self.source_id!r}, path={self.path!r})"


class Article(Base):
    __tablename__ = "article"
    __table_args__ = {"comment": "One article of an issue, with its title block."}

    id: Mapped[int] = mapped_column(primary_key=True, comment="Surrogate key.")
    issue_id: Mapped[int] = mapped_column(ForeignKey("issue.id"), index=True, comment="The issue (issue.id).")
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id", ondelete="CASCADE"), index=True, comment="The file it was parsed from (source.id).")
    ordinal: Mapped[int] = mapped_column(Integer, comment="Position of the article in its source file, from 1; for a one-article file, its position on the page when the file name says it (--name-pattern {ordinal}).")
    title: Mapped[str] = mapped_column(String(500), comment="Title (主题).")
    subtitle: Mapped[str | None] = mapped_column(String(500), comment="Subtitle (副题), without the leading ——.")
    byline: Mapped[str | None] = mapped_column(String(500), comment="Byline as printed, e.g. 本报记者●王祯 通讯员●梁彦强.")
    kicker: Mapped[str | None] = mapped_column(String(500), comment="Kicker (引题) printed above the title, where the format has one.")
    page: Mapped[str | None] = mapped_column(String(20), comment="Page (版次) as printed without zero padding, e.g. 3 for 第03版, A3.")
    page_name: Mapped[str | None] = mapped_column(String(100), comment="Page name (版名), e.g. 法治视点.")
    source_url: Mapped[str | None] = mapped_column(String(1000), comment="URL the article was saved from, where the file says so.")
    char_count: Mapped[int] = mapped_column(Integer, comment="Characters of body text (sum of paragraph.char_count).")
    paragraph_count: Mapped[int] = mapped_column(Integer, comment="Number of paragraphs.")

    authors: Mapped[list[ArticleAuthor]] = relationship(order_by="ArticleAuthor.ordinal", passive_deletes=True)
    sections: Mapped[list[Section]] = relationship(order_by="Section.ordinal", passive_deletes=True)

    def __repr__(self) -> str:
        return f"Article(id={self.id!r}, title={self.title!r})"


class ArticleAuthor(Base):
    __tablename__ = "article_author"
    __table_args__ = {"comment": "A contributor named in an article's byline."}

    article_id: Mapped[int] = mapped_column(ForeignKey("article.id", ondelete="CASCADE"), primary_key=True, comment="The article (article.id).")
    ordinal: Mapped[int] = mapped_column(Integer, primary_key=True, comment="Position in the byline, from 1.")
    role: Mapped[str | None] = mapped_column(String(50), comment="Role as printed, e.g. 本报记者, 通讯员.")
    name: Mapped[str] = mapped_column(String(100), comment="Person's name.")

    def __repr__(self) -> str:
        return f"ArticleAuthor(role={self.role!r}, name={self.name!r})"


class Section(Base):
    __tablename__ = "section"
    __table_args__ = {"comment": "A headed part of an article; ordinal 0 is the untitled opening."}

    id: Mapped[int] = mapped_column(primary_key=True, comment="Surrogate key.")
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id", ondelete="CASCADE"), index=True, comment="The article (article.id).")
    ordinal: Mapped[int] = mapped_column(Integer, comment="Position in the article; 0 = the untitled opening.")
    heading: Mapped[str | None] = mapped_column(String(500), comment="Heading; a two-line heading is joined by one space. Null for the opening.")

    paragraphs: Mapped[list[Paragraph]] = relationship(order_by="Paragraph.ordinal", passive_deletes=True)

    def __repr__(self) -> str:
        return f"Section(id={self.id!r}, heading={self.heading!r})"


class Paragraph(Base):
    __tablename__ = "paragraph"
    __table_args__ = {"comment": "A paragraph of body text, rejoined when a column break cut it."}

    id: Mapped[int] = mapped_column(primary_key=True, comment="Surrogate key.")
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id", ondelete="CASCADE"), index=True, comment="The article (article.id).")
    section_id: Mapped[int] = mapped_column(ForeignKey("section.id", ondelete="CASCADE"), index=True, comment="The section (section.id).")
    ordinal: Mapped[int] = mapped_column(Integer, comment="Position in the article, from 1.")
    lead: Mapped[str | None] = mapped_column(String(200), comment="Run-in heading that opens the paragraph (without its 。), else null.")
    text: Mapped[str] = mapped_column(LongText, comment="The paragraph's text.")
    char_count: Mapped[int] = mapped_column(Integer, comment="Characters (code points) in text.")
    line_start: Mapped[int] = mapped_column(Integer, comment="First line of the source file it came from (1-based).")
    line_end: Mapped[int] = mapped_column(Integer, comment="Last line of the source file it came from (1-based).")

    def __repr__(self) -> str:
        return f"Paragraph(id={self.id!r}, ordinal={self.ordinal!r})"


class Metric(Base):
    __tablename__ = "metric"
    __table_args__ = {"comment": "A quantitative fact stated in a paragraph: number, unit, qualifier and what it counts."}

    id: Mapped[int] = mapped_column(primary_key=True, comment="Surrogate key.")
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id", ondelete="CASCADE"), index=True, comment="The article (article.id).")
    paragraph_id: Mapped[int] = mapped_column(ForeignKey("paragraph.id", ondelete="CASCADE"), index=True, comment="The paragraph (paragraph.id).")
    ordinal: Mapped[int] = mapped_column(Integer, comment="Position within the paragraph, from 1.")
    surface: Mapped[str] = mapped_column(String(200), comment="The text as printed, qualifier words included, e.g. 9000余名.")
    char_start: Mapped[int] = mapped_column(Integer, comment="Offset of surface in paragraph.text (code points, from 0).")
    char_end: Mapped[int] = mapped_column(Integer, comment="End offset of surface in paragraph.text (exclusive).")
    value: Mapped[Decimal] = mapped_column(Exact, comment="The number, normalised: 2万 -> 20000, 三 -> 3, 95% -> 95; money in 元.")
    value_high: Mapped[Decimal | None] = mapped_column(Exact, comment="Upper end of a range such as 5至10人, else null.")
    unit: Mapped[str] = mapped_column(String(20), comment="Measure word or unit: 人, 名, 起, %, 元, 个百分点 ...")
    qualifier: Mapped[str] = mapped_column(String(20), comment="exact, approx, more_than, at_least, at_most or less_than.")
    kind: Mapped[str] = mapped_column(String(20), comment="count, percent, change, duration, money ...")
    subject: Mapped[str | None] = mapped_column(String(200), comment="What is counted, as written in the text, e.g. 民警.")
    subject_key: Mapped[str | None] = mapped_column(
        String(100), index=True,
        comment="The subject's head noun phrase, normalised so that GROUP BY gathers one measure across articles: "
        "全局共有民警 -> 民警.",
    )
    role: Mapped[str | None] = mapped_column(
        String(10), comment="from or to, for the two ends of a change stated as a pair (由9个简化为5个); else null."
    )
    condition: Mapped[str | None] = mapped_column(String(200), comment="A condition the figure is stated under, e.g. 得分>=85分.")
    as_of: Mapped[str | None] = mapped_column(String(100), comment="The date the figure holds at, as written, e.g. 截至8月20日.")
    period: Mapped[str | None] = mapped_column(String(100), comment="The period the figure covers, as written, e.g. 7月以来.")
    direction: Mapped[str | None] = mapped_column(String(10), comment="up or down, for changes.")
    basis: Mapped[str | None] = mapped_column(String(10), comment="Comparison basis of a change: 同比 or 环比.")
    # When, where, in which base unit and in which series the figure holds (archive/facts.py, issue 15).
    ref_start: Mapped[dt.date | None] = mapped_column(Date, comment="First day the figure holds for, resolved from as_of, period or the text against the issue date, e.g. 2020-01-01 for 1至5月.")
    ref_end: Mapped[dt.date | None] = mapped_column(Date, comment="Last day the figure holds for (inclusive); equal to ref_start for a point such as 截至8月20日.")
    ref_precision: Mapped[str | None] = mapped_column(String(10), comment="day, month, quarter or year when one such unit is named; span for any other stretch; issue when nothing is stated (then ref_start = ref_end = issue date).")
    place: Mapped[str | None] = mapped_column(String(100), comment="Where the figure holds: the place named nearest before it, else the article's place (dateline, title); official name, e.g. 湖北省, 全国, 美国.")
    place_level: Mapped[str | None] = mapped_column(String(20), comment="country, province, prefecture, county or foreign.")
    value_base: Mapped[Decimal | None] = mapped_column(Exact, comment="value in unit_base (12公里 -> 12000 米, 3吨 -> 3000 千克); negative for a change that goes down.")
    unit_base: Mapped[str | None] = mapped_column(String(20), comment="The base unit of the unit's family (米, 千克, 人, 元, %); the unit itself where no fixed factor exists (年, 美元, 人次/小时).")
    measure: Mapped[str | None] = mapped_column(String(200), index=True, comment="The series the figure belongs to: subject|kind|family, e.g. 新增确诊病例|count|patient_case; null without a subject.")
    fact_key: Mapped[str | None] = mapped_column(String(40), index=True, comment="Digest of measure, place, ref_start, ref_end, value_base and unit_base: the same figure restated in several articles has one key (v_fact keeps the first).")

    def __repr__(self) -> str:
        return f"Metric(id={self.id!r}, surface={self.surface!r})"


class IdWatermark(Base):
    __tablename__ = "id_watermark"
    __table_args__ = {
        "comment": "Bookkeeping, not data: the highest id each table has handed out, so that SQLite never hands "
        "out an id twice after rows are purged or replaced (PostgreSQL and MariaDB sequences do this themselves)."
    }

    table_name: Mapped[str] = mapped_column(String(50), primary_key=True, comment="A table whose ids the loader hands out, e.g. paragraph.")
    last_id: Mapped[int] = mapped_column(Integer, comment="The highest id that table has ever held.")


Index("ix_issue_date", Issue.date)
