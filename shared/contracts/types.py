"""Value types of the contract: dates, months, money and hours, validated strictly.

Money and hours are `Decimal` and travel as decimal strings ("24.00"); a JSON number is refused
so that no float ever touches an amount.

Ids (`Id`) become MongoDB `_id`s, keys of embedded documents and parts of field paths, so an id
that could not be a MongoDB field name is refused: a leading `$`, a `.`, whitespace or a control
character. A message id (`MessageId`) is only ever a value; it refuses control characters alone.
"""
import re
from datetime import date, datetime, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, PlainSerializer

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
_MONEY = re.compile(r"-?\d{1,12}(\.\d{1,2})?")
_HOURS = re.compile(r"\d{1,6}(\.\d{1,2})?")
CENT = Decimal("0.01")
LABEL_MAX_CHARS, LABELS_MAX_ITEMS = 50, 20
# Control characters: C0, DEL and C1 (Unicode category Cc).
_CONTROL = r"\x00-\x1f\x7f-\x9f"
# The same rules as `_id_rules`, for the JSON schema (and the AsyncAPI document) of the contract.
ID_PATTERN = rf"^[^$.\s{_CONTROL}][^.\s{_CONTROL}]*$"
MESSAGE_ID_PATTERN = rf"^[^{_CONTROL}]*$"
_HAS_CONTROL = re.compile(rf"[{_CONTROL}]")
_HAS_SPACE = re.compile(r"\s")


def _date(v: object) -> date:
    if isinstance(v, date) and not isinstance(v, datetime):
        return v
    if isinstance(v, str) and _DATE.fullmatch(v):
        try:
            return date.fromisoformat(v)
        except ValueError:
            pass
    raise ValueError("must be a date written YYYY-MM-DD")


def _month(v: object) -> str:
    if isinstance(v, str) and _MONTH.fullmatch(v):
        if not FIRST_YEAR <= int(v[:4]) <= LAST_YEAR:
            raise ValueError(_OUT_OF_RANGE)
        return v
    raise ValueError("must be a month written YYYY-MM")


# Dates the platform takes: a birth date of the oldest members to plans a long way ahead. Python's
# dates end at 0001 and 9999, and a day's arithmetic near either end (a period's end, a timestamp
# moved to UTC) overflows: a command dated so was accepted and its handler, or a consumer of its
# event, failed (`OverflowError`, dead-lettered `handler_failed`; finding 14 of docs/reliability.md).
FIRST_YEAR, LAST_YEAR = 1900, 2199
_OUT_OF_RANGE = f"must be between {FIRST_YEAR}-01-01 and {LAST_YEAR}-12-31"


def _day_in_range(v: date) -> date:
    if not FIRST_YEAR <= v.year <= LAST_YEAR:
        raise ValueError(_OUT_OF_RANGE)
    return v


def moment_in_range(v: datetime) -> datetime:
    try:
        year = v.astimezone(timezone.utc).year
    except OverflowError:
        raise ValueError(_OUT_OF_RANGE) from None
    if not FIRST_YEAR <= year <= LAST_YEAR or not FIRST_YEAR <= v.year <= LAST_YEAR:
        raise ValueError(_OUT_OF_RANGE)
    return v


def _decimal(pattern: re.Pattern, what: str):
    def parse(v: object) -> Decimal:
        if isinstance(v, Decimal):
            return v
        if isinstance(v, str) and pattern.fullmatch(v):
            try:
                return Decimal(v)
            except InvalidOperation:
                pass
        # A JSON number is refused, integers too: the contract writes amounts as decimal strings.
        raise ValueError(f"must be {what}")

    return parse


def _id_rules(v: str) -> str:
    if v.startswith("$"):
        raise ValueError("an id must not begin with '$'")
    if "." in v:
        raise ValueError("an id must not contain '.'")
    if _HAS_CONTROL.search(v):
        raise ValueError("an id must not contain control characters")
    if _HAS_SPACE.search(v):
        raise ValueError("an id must not contain whitespace")
    return v


def _message_id_rules(v: str) -> str:
    if _HAS_CONTROL.search(v):
        raise ValueError("a message id must not contain control characters")
    return v


def plain(v: Decimal) -> str:
    """A decimal in plain notation, without trailing zeros: 10 → "10", 2.50 → "2.5", never "1E+1"."""
    text = format(v.normalize(), "f")
    return "0" if text in ("-0", "") else text


def to_money(v: Decimal) -> Decimal:
    return v.quantize(CENT, rounding=ROUND_HALF_UP)


Day = Annotated[date, BeforeValidator(_date), AfterValidator(_day_in_range),
                PlainSerializer(lambda d: d.isoformat(), return_type=str)]
Month = Annotated[str, BeforeValidator(_month)]
Money = Annotated[
    Decimal,
    BeforeValidator(_decimal(_MONEY, 'an amount written as a decimal string, e.g. "24.00"')),
    AfterValidator(to_money),
    PlainSerializer(lambda d: f"{d:.2f}", return_type=str),
]
Hours = Annotated[
    Decimal,
    BeforeValidator(_decimal(_HOURS, 'hours written as a decimal string, e.g. "2.5"')),
    PlainSerializer(plain, return_type=str),
]
Timestamp = Annotated[AwareDatetime, AfterValidator(moment_in_range),
                      PlainSerializer(lambda d: d.isoformat(), return_type=str)]
# The id of anything the contract names: org, member, branch, activity, venue, notice, payment…
Id = Annotated[str, Field(min_length=1, max_length=128, json_schema_extra={"pattern": ID_PATTERN}),
               AfterValidator(_id_rules)]
# The envelope's `id` (and what refers to one, e.g. `CommandRejected.command_id`).
MessageId = Annotated[str, Field(min_length=1, max_length=128, json_schema_extra={"pattern": MESSAGE_ID_PATTERN}),
                      AfterValidator(_message_id_rules)]
Text = Annotated[str, Field(max_length=20000)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
# A word or short phrase of a ledger's list: a member's specialty (书法) or service need (送学上门), a
# venue's facility (血压计).
Label = Annotated[str, Field(min_length=1, max_length=LABEL_MAX_CHARS)]
# Such a list is bounded too: events carry it, MemberProfileUpdated up to three times (the changes,
# what they replace, the profile), and an event must stay far below what the broker takes.
Labels = Annotated[list[Label], Field(max_length=LABELS_MAX_ITEMS)]


def month_of(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"
