"""The schema's bounded columns and the metric's fields as plain data, for the parse half (archive.limits), which runs in the
parser workers and must not import SQLAlchemy or the models. tests/test_architecture.py checks that
this copy equals the models' own columns, so a changed model fails the build until it is updated here."""

from __future__ import annotations

# (column, length) of every bounded string column, by table.
STRING_LENGTHS: dict[str, tuple[tuple[str, int], ...]] = {
    'article': (('title', 500), ('subtitle', 500), ('byline', 500), ('kicker', 500), ('page', 20), ('page_name', 100), ('source_url', 1000)),
    'article_author': (('role', 50), ('name', 100)),
    'issue': (('weekday', 10),),
    'metric': (('surface', 200), ('unit', 20), ('qualifier', 20), ('kind', 20), ('subject', 200), ('subject_key', 100), ('role', 10), ('condition', 200), ('as_of', 100), ('period', 100), ('direction', 10), ('basis', 10), ('ref_precision', 10), ('place', 100), ('place_level', 20), ('unit_base', 20), ('measure', 200), ('fact_key', 40)),
    'newspaper': (('name', 200), ('cn_serial', 40), ('postal_code', 40), ('website', 300), ('email', 300), ('hotline', 300)),
    'paragraph': (('lead', 200),),
    'section': (('heading', 500),),
}

# The primary key of every table whose key is not `id` alone (the rest: ('id',)). A sharded coordinator
# (archive/shard.py) stands a view in for each content table: a view has no key in the catalog, and an
# export orders its rows by the table's key all the same (archive.catalog.model_key).
PRIMARY_KEYS: dict[str, tuple[str, ...]] = {'id_watermark': ('table_name',), 'article_author': ('article_id', 'ordinal')}
TABLES = ('id_watermark', 'newspaper', 'source', 'issue', 'source_path', 'article', 'article_author', 'section', 'paragraph', 'metric')

# (column, precision, scale) of the metric table's NUMERIC columns.
METRIC_NUMERIC: tuple[tuple[str, int, int], ...] = (('value', 38, 10), ('value_high', 38, 10), ('value_base', 38, 10))

# The metric table's DATE columns.
METRIC_DATES = ("ref_start", "ref_end")

# The fields of an extracted metric (archive.metrics.Metric), in order: the metric table's content
# columns, written by the loader and returned by `archive show` (the table's other columns are facts').
METRIC_FIELDS = (
    "ordinal", "surface", "char_start", "char_end", "value", "value_high", "unit", "qualifier", "kind",
    "subject", "subject_key", "condition", "as_of", "period", "direction", "basis", "role",
)
