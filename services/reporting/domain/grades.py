"""A branch's yearly grade (星级 and 类别, issue 13, item 9) as reporting shows it: the grade of a
year, the one of the year before and the move between them (晋位升级), derived on read from the
grades recorded, so a grade of an earlier year arriving late still gives the right move. Pure."""
from shared.rules import grading as rule

MOVES = ("up", "down", "same", "new")


def grade_of(years: dict[str, dict], year: int) -> dict | None:
    """{year, stars, grade_class, label, previous, move, move_label, steps}, or None when not graded."""
    g = years.get(str(year))
    if g is None:
        return None
    p = years.get(str(year - 1))
    move, steps = rule.move((p["stars"], p["grade_class"]) if p else None, (g["stars"], g["grade_class"]))
    return {"year": year, "stars": g["stars"], "grade_class": g["grade_class"],
            "label": rule.label(g["stars"], g["grade_class"]),
            "previous": {"year": year - 1, "stars": p["stars"], "grade_class": p["grade_class"],
                         "label": rule.label(p["stars"], p["grade_class"])} if p else None,
            "move": move, "move_label": rule.MOVE_LABELS[move], "steps": steps}


def counts(grades: list[dict | None], year: int) -> dict:
    """Over a subtree's branches: how many were graded, moved up, down, stayed, were new, and by label."""
    out = {"year": year, "branches": len(grades), "graded": 0, **dict.fromkeys(MOVES, 0), "by_label": {}}
    for g in grades:
        if g is None:
            continue
        out["graded"] += 1
        out[g["move"]] += 1
        out["by_label"][g["label"]] = out["by_label"].get(g["label"], 0) + 1
    out["by_label"] = dict(sorted(out["by_label"].items(), key=lambda kv: -rule.place(*_parse(kv[0]))))
    return out


def _parse(label: str) -> tuple[int, int]:
    back = {v: k for k, v in rule.NUMERALS.items()}
    return back[label[0]], back[label[2]]
