"""Selection and evaluation (选树评比): the awards of the year, to branches or to members."""
from shared.errors import duplicate

BRANCH_CATEGORIES = ("five_good_branch", "model_branch")  # the others go to a member


def subject_kind(category: str) -> str:
    return "branch" if category in BRANCH_CATEGORIES else "member"


def grant(awards: list[dict], *, award_id: str, year: int, category: str, subject_id: str) -> dict:
    """Add an award to its subject's list; the same award twice in a year is a duplicate."""
    if any(a["year"] == year and a["category"] == category for a in awards):
        raise duplicate(f"{subject_id} already holds {category} for {year}", "data.subject_id")
    award = {"award_id": award_id, "year": year, "category": category}
    awards.append(award)
    return award
