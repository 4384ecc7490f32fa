"""Scoring of extracted metrics against a gold set, as ``tests/data/METRICS.md`` describes.

A predicted metric matches a gold one when paragraph, value, unit and qualifier are all equal
(one-to-one; among equal candidates the one at the same offsets is taken first).  Precision,
recall and F1 count matches; subject accuracy is the share of gold rows with a ``subject_key``
whose matched prediction has a subject containing that key.  Subject-key accuracy is the share of
those rows whose prediction's normalised ``subject_key`` contains the gold key and is at most four
characters longer (the head noun, not a padded phrase).  ``subject_short`` is the share of
predictions whose subject has at most 12 characters; role accuracy the share of gold rows with a
``role`` (from/to of a pair) whose prediction has the same role.  Offsets are checked on matches:
``char_start``, ``char_end`` and ``surface`` must equal gold's.

Reusable on any source of predictions (the extractor here, rows read back from a database):
each dict carries ``paragraph``, ``value``, ``unit``, ``qualifier``, ``subject``, ``char_start``,
``char_end`` and ``surface`` (gold rows carry ``subject_key`` instead of ``subject``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def _dec(v: Any) -> Decimal:
    d = v if isinstance(v, Decimal) else Decimal(str(v))
    return d.normalize()


def _key(row: dict) -> tuple:
    return (int(row["paragraph"]), _dec(row["value"]), row["unit"], row["qualifier"])


def score(predicted: list[dict], gold: list[dict]) -> dict:
    pool: dict[tuple, list[int]] = {}
    for i, p in enumerate(predicted):
        pool.setdefault(_key(p), []).append(i)
    used: set[int] = set()
    matches: list[tuple[dict, dict]] = []
    missed: list[dict] = []
    for g in gold:
        cands = [i for i in pool.get(_key(g), []) if i not in used]
        if not cands:
            missed.append(g)
            continue
        same_place = [i for i in cands if predicted[i].get("char_start") == g.get("char_start")]
        i = (same_place or cands)[0]
        used.add(i)
        matches.append((g, predicted[i]))
    spurious = [p for i, p in enumerate(predicted) if i not in used]

    tp = len(matches)
    precision = tp / len(predicted) if predicted else (1.0 if not gold else 0.0)
    recall = tp / len(gold) if gold else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0

    keyed = [(g, p) for g, p in matches if g.get("subject_key")]
    keyed_total = sum(1 for g in gold if g.get("subject_key"))
    subject_hits = [(g, p) for g, p in keyed if p.get("subject") and g["subject_key"] in p["subject"]]
    subject_misses = [(g, p) for g, p in keyed if (g, p) not in subject_hits]
    subject_accuracy = len(subject_hits) / keyed_total if keyed_total else 1.0

    key_hits = [
        (g, p) for g, p in keyed
        if p.get("subject_key") and g["subject_key"] in p["subject_key"]
        and len(p["subject_key"]) <= len(g["subject_key"]) + 4
    ]
    key_misses = [(g, p) for g, p in keyed if (g, p) not in key_hits]
    with_subject = [p for p in predicted if p.get("subject")]
    short = sum(1 for p in with_subject if len(p["subject"]) <= 12)
    roled = [(g, p) for g, p in matches if g.get("role")]
    role_hits = sum(1 for g, p in roled if p.get("role") == g["role"])

    offset_errors = [
        (g, p) for g, p in matches
        if (p.get("char_start"), p.get("char_end"), p.get("surface"))
        != (g.get("char_start"), g.get("char_end"), g.get("surface"))
    ]
    return {
        "gold": len(gold),
        "predicted": len(predicted),
        "matched": tp,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "subject_keyed": keyed_total,
        "subject_hits": len(subject_hits),
        "subject_accuracy": subject_accuracy,
        "subject_key_accuracy": len(key_hits) / keyed_total if keyed_total else 1.0,
        "subject_short": short / len(with_subject) if with_subject else 1.0,
        "role_accuracy": role_hits / len(roled) if roled else 1.0,
        "offset_errors": offset_errors,
        "missed": missed,
        "spurious": spurious,
        "subject_misses": subject_misses,
        "subject_key_misses": key_misses,
    }


def format_score(name: str, s: dict) -> str:
    return (
        f"{name}: P={s['precision']:.3f} R={s['recall']:.3f} F1={s['f1']:.3f} "
        f"subject={s['subject_accuracy']:.3f} ({s['subject_hits']}/{s['subject_keyed']}) "
        f"key={s['subject_key_accuracy']:.3f} short={s['subject_short']:.3f} role={s['role_accuracy']:.3f} "
        f"matched={s['matched']} gold={s['gold']} predicted={s['predicted']} "
        f"offset_errors={len(s['offset_errors'])}"
    )
