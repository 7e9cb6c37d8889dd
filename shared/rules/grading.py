"""星级 and 类别 (issue 13, item 9): a branch's grade is stars (1–5) and a class (1–3, 一类 the best),
written 三星二类. The same rule in members (the event's move) and reporting (the move on read).

The ladder orders the grades: more stars is better, and within the same stars a better class, so
五星一类 is the top and 一星三类 the bottom; a move (晋位升级) is the change of place on it from the
year before.
"""
NUMERALS = {1: "一", 2: "二", 3: "三", 4: "四", 5: "五"}
MOVE_LABELS = {"up": "晋位升级", "down": "降级", "same": "持平", "new": "无上年评定"}


def label(stars: int, grade_class: int) -> str:
    return f"{NUMERALS[stars]}星{NUMERALS[grade_class]}类"


def place(stars: int, grade_class: int) -> int:
    """The grade's place on the ladder: 1 (一星三类) to 15 (五星一类)."""
    return (stars - 1) * 3 + (4 - grade_class)


def move(previous: tuple[int, int] | None, current: tuple[int, int]) -> tuple[str, int]:
    """(move, steps) from the previous year's (stars, class) to this year's."""
    if previous is None:
        return "new", 0
    steps = place(*current) - place(*previous)
    return ("up" if steps > 0 else "down" if steps < 0 else "same"), steps
