"""The lists' pagination, as every service's lists answer it: `page` (from 1, at most 10,000:
MongoDB's skip overflows beyond) and `page_size` (at most `MAX_PAGE_SIZE`), answered with
`total` and `has_more`, so a caller knows there is more without counting."""
from fastapi import Query

MAX_PAGE = 10_000
MAX_PAGE_SIZE = 500
PAGE = Query(1, ge=1, le=MAX_PAGE, description="the page, from 1")
PAGE_SIZE = Query(50, ge=1, le=MAX_PAGE_SIZE, description=f"items a page (at most {MAX_PAGE_SIZE})")


def skip(page: int, page_size: int) -> int:
    return (page - 1) * page_size


def paging(total: int, page: int, page_size: int) -> dict:
    """What a page says of the list it is cut from."""
    return {"total": total, "page": page, "page_size": page_size, "has_more": skip(page, page_size) + page_size < total}
