"""initial schema

Revision ID: 0001_initial_schema
Revises: 
Create Date: 2026-11-27 22:06:24.439608
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision: str = "0001_initial_schema"
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# utf8mb4 with binary collation on MySQL/MariaDB: every CJK character (Extension B included) and
# emoji round-trip, and equality is exact (no case or width folding in unique keys).
TABLE_OPTIONS = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}


def upgrade() -> None:
    op.create_table('newspaper',
    sa.Column('id', sa.Integer(), nullable=False, comment='Surrogate key.'),
    sa.Column('name', sa.String(length=200), nullable=False, comment='Name as printed in the masthead, e.g. 内蒙古法制报.'),
    sa.Column('cn_serial', sa.String(length=40), nullable=True, comment='国内统一连续出版物号, e.g. CN 15-0025.'),
    sa.Column('postal_code', sa.String(length=40), nullable=True, comment='邮发代号 with dashes normalised, e.g. 15-6.'),
    sa.Column('website', sa.String(length=300), nullable=True, comment='Website printed in the masthead.'),
    sa.Column('email', sa.String(length=300), nullable=True, comment='E-mail address printed in the masthead.'),
    sa.Column('hotline', sa.String(length=300), nullable=True, comment='新闻热线 as printed, e.g. (0471)4687274 4683057.'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_newspaper')),
    sa.UniqueConstraint('name', name=op.f('uq_newspaper_name')),
    comment='A newspaper title, with the registration data printed in its masthead.'
   ,
    **TABLE_OPTIONS
    )
    op.create_table('source',
    sa.Column('id', sa.Integer(), nullable=False, comment='Surrogate key.'),
    sa.Column('path', sa.String(length=700), nullable=False, comment='Absolute path of the file when it was loaded.'),
    sa.Column('sha256', sa.String(length=64), nullable=False, comment="SHA-256 of the file's bytes (hex)."),
    sa.Column('encoding', sa.String(length=20), nullable=False, comment='Encoding the bytes were decoded with, e.g. utf-8, gb18030.'),
    sa.Column('byte_count', sa.Integer(), nullable=False, comment='Size of the file in bytes.'),
    sa.Column('text', sa.Text().with_variant(mysql.LONGTEXT(), 'mariadb').with_variant(mysql.LONGTEXT(), 'mysql'), nullable=False, comment='The decoded text, kept so that pages can be re-parsed without the file.'),
    sa.Column('loaded_at', sa.DateTime(), nullable=False, comment='When the file was loaded (UTC).'),
    sa.Column('parser_version', sa.String(length=20), nullable=False, comment='Version of the parser and extractor that produced the rows.'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_source')),
    sa.UniqueConstraint('sha256', name=op.f('uq_source_sha256')),
    comment='One loaded file: the provenance of every row parsed from it.'
   ,
    **TABLE_OPTIONS
    )
    with op.batch_alter_table('source', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_source_path'), ['path'], unique=False)

    op.create_table('issue',
    sa.Column('id', sa.Integer(), nullable=False, comment='Surrogate key.'),
    sa.Column('newspaper_id', sa.Integer(), nullable=False, comment='The newspaper (newspaper.id).'),
    sa.Column('date', sa.Date(), nullable=False, comment='Publication date.'),
    sa.Column('weekday', sa.String(length=10), nullable=True, comment='Weekday as printed, e.g. 星期三 (checked against the date).'),
    sa.Column('number', sa.Integer(), nullable=True, comment='Running issue number, e.g. 4012 for 第4012期.'),
    sa.ForeignKeyConstraint(['newspaper_id'], ['newspaper.id'], name=op.f('fk_issue_newspaper_id_newspaper')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_issue')),
    sa.UniqueConstraint('newspaper_id', 'date', name=op.f('uq_issue_newspaper_id_date')),
    comment='One dated issue of a newspaper.'
   ,
    **TABLE_OPTIONS
    )
    with op.batch_alter_table('issue', schema=None) as batch_op:
        batch_op.create_index('ix_issue_date', ['date'], unique=False)
        batch_op.create_index(batch_op.f('ix_issue_newspaper_id'), ['newspaper_id'], unique=False)

    op.create_table('article',
    sa.Column('id', sa.Integer(), nullable=False, comment='Surrogate key.'),
    sa.Column('issue_id', sa.Integer(), nullable=False, comment='The issue (issue.id).'),
    sa.Column('source_id', sa.Integer(), nullable=False, comment='The file it was parsed from (source.id).'),
    sa.Column('ordinal', sa.Integer(), nullable=False, comment='Position of the article in its source file, from 1.'),
    sa.Column('title', sa.String(length=500), nullable=False, comment='Title (主题).'),
    sa.Column('subtitle', sa.String(length=500), nullable=True, comment='Subtitle (副题), without the leading ——.'),
    sa.Column('byline', sa.String(length=500), nullable=True, comment='Byline as printed, e.g. 本报记者●王祯 通讯员●梁彦强.'),
    sa.Column('char_count', sa.Integer(), nullable=False, comment='Characters of body text (sum of paragraph.char_count).'),
    sa.Column('paragraph_count', sa.Integer(), nullable=False, comment='Number of paragraphs.'),
    sa.ForeignKeyConstraint(['issue_id'], ['issue.id'], name=op.f('fk_article_issue_id_issue')),
    sa.ForeignKeyConstraint(['source_id'], ['source.id'], name=op.f('fk_article_source_id_source'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_article')),
    comment='One article of an issue, with its title block.'
   ,
    **TABLE_OPTIONS
    )
    with op.batch_alter_table('article', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_article_issue_id'), ['issue_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_article_source_id'), ['source_id'], unique=False)

    op.create_table('article_author',
    sa.Column('article_id', sa.Integer(), nullable=False, comment='The article (article.id).'),
    sa.Column('ordinal', sa.Integer(), nullable=False, comment='Position in the byline, from 1.'),
    sa.Column('role', sa.String(length=50), nullable=True, comment='Role as printed, e.g. 本报记者, 通讯员.'),
    sa.Column('name', sa.String(length=100), nullable=False, comment="Person's name."),
    sa.ForeignKeyConstraint(['article_id'], ['article.id'], name=op.f('fk_article_author_article_id_article'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('article_id', 'ordinal', name=op.f('pk_article_author')),
    comment="A contributor named in an article's byline."
    )
    op.create_table('section',
    sa.Column('id', sa.Integer(), nullable=False, comment='Surrogate key.'),
    sa.Column('article_id', sa.Integer(), nullable=False, comment='The article (article.id).'),
    sa.Column('ordinal', sa.Integer(), nullable=False, comment='Position in the article; 0 = the untitled opening.'),
    sa.Column('heading', sa.String(length=500), nullable=True, comment='Heading; a two-line heading is joined by one space. Null for the opening.'),
    sa.ForeignKeyConstraint(['article_id'], ['article.id'], name=op.f('fk_section_article_id_article'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_section')),
    comment='A headed part of an article; ordinal 0 is the untitled opening.'
   ,
    **TABLE_OPTIONS
    )
    with op.batch_alter_table('section', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_section_article_id'), ['article_id'], unique=False)

    op.create_table('paragraph',
    sa.Column('id', sa.Integer(), nullable=False, comment='Surrogate key.'),
    sa.Column('article_id', sa.Integer(), nullable=False, comment='The article (article.id).'),
    sa.Column('section_id', sa.Integer(), nullable=False, comment='The section (section.id).'),
    sa.Column('ordinal', sa.Integer(), nullable=False, comment='Position in the article, from 1.'),
    sa.Column('lead', sa.String(length=200), nullable=True, comment='Run-in heading that opens the paragraph (without its 。), else null.'),
    sa.Column('text', sa.Text().with_variant(mysql.LONGTEXT(), 'mariadb').with_variant(mysql.LONGTEXT(), 'mysql'), nullable=False, comment="The paragraph's text."),
    sa.Column('char_count', sa.Integer(), nullable=False, comment='Characters (code points) in text.'),
    sa.Column('line_start', sa.Integer(), nullable=False, comment='First line of the source file it came from (1-based).'),
    sa.Column('line_end', sa.Integer(), nullable=False, comment='Last line of the source file it came from (1-based).'),
    sa.ForeignKeyConstraint(['article_id'], ['article.id'], name=op.f('fk_paragraph_article_id_article'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['section_id'], ['section.id'], name=op.f('fk_paragraph_section_id_section'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_paragraph')),
    comment='A paragraph of body text, rejoined when a column break cut it.'
   ,
    **TABLE_OPTIONS
    )
    with op.batch_alter_table('paragraph', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_paragraph_article_id'), ['article_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_paragraph_section_id'), ['section_id'], unique=False)

    op.create_table('metric',
    sa.Column('id', sa.Integer(), nullable=False, comment='Surrogate key.'),
    sa.Column('article_id', sa.Integer(), nullable=False, comment='The article (article.id).'),
    sa.Column('paragraph_id', sa.Integer(), nullable=False, comment='The paragraph (paragraph.id).'),
    sa.Column('ordinal', sa.Integer(), nullable=False, comment='Position within the paragraph, from 1.'),
    sa.Column('surface', sa.String(length=200), nullable=False, comment='The text as printed, qualifier words included, e.g. 9000余名.'),
    sa.Column('char_start', sa.Integer(), nullable=False, comment='Offset of surface in paragraph.text (code points, from 0).'),
    sa.Column('char_end', sa.Integer(), nullable=False, comment='End offset of surface in paragraph.text (exclusive).'),
    sa.Column('value', sa.Numeric(precision=38, scale=10), nullable=False, comment='The number, normalised: 2万 -> 20000, 三 -> 3, 95% -> 95; money in 元.'),
    sa.Column('value_high', sa.Numeric(precision=38, scale=10), nullable=True, comment='Upper end of a range such as 5至10人, else null.'),
    sa.Column('unit', sa.String(length=20), nullable=False, comment='Measure word or unit: 人, 名, 起, %, 元, 个百分点 ...'),
    sa.Column('qualifier', sa.String(length=20), nullable=False, comment='exact, approx, more_than, at_least, at_most or less_than.'),
    sa.Column('kind', sa.String(length=20), nullable=False, comment='count, percent, change, duration, money ...'),
    sa.Column('subject', sa.String(length=200), nullable=True, comment='What is counted, as written in the text, e.g. 民警.'),
    sa.Column('condition', sa.String(length=200), nullable=True, comment='A condition the figure is stated under, e.g. 得分>=85分.'),
    sa.Column('as_of', sa.String(length=100), nullable=True, comment='The date the figure holds at, as written, e.g. 截至8月20日.'),
    sa.Column('period', sa.String(length=100), nullable=True, comment='The period the figure covers, as written, e.g. 7月以来.'),
    sa.Column('direction', sa.String(length=10), nullable=True, comment='up or down, for changes.'),
    sa.Column('basis', sa.String(length=10), nullable=True, comment='Comparison basis of a change: 同比 or 环比.'),
    sa.ForeignKeyConstraint(['article_id'], ['article.id'], name=op.f('fk_metric_article_id_article'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['paragraph_id'], ['paragraph.id'], name=op.f('fk_metric_paragraph_id_paragraph'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_metric')),
    comment='A quantitative fact stated in a paragraph: number, unit, qualifier and what it counts.'
   ,
    **TABLE_OPTIONS
    )
    with op.batch_alter_table('metric', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_metric_article_id'), ['article_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_metric_paragraph_id'), ['paragraph_id'], unique=False)



def downgrade() -> None:
    # Dropping a table drops its indexes; dropping them first fails on MySQL where a foreign key needs them.
    for table in ("metric", "paragraph", "section", "article_author", "article", "issue", "source", "newspaper"):
        op.drop_table(table)
