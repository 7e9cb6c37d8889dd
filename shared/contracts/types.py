"""Value types of the contract: dates, months, money and hours, validated strictly.

Money and hours are `Decimal` and travel as decimal strings ("24.00"); a JSON number is refused
so that no float ever touches an amount.
"""
import re
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, PlainSerializer

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
_MONEY = re.compile(r"-?\d{1,12}(\.\d{1,2})?")
_HOURS = re.compile(r"\d{1,6}(\.\d{1,2})?")
CENT = Decimal("0.01")


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
        return v
    raise ValueError("must be a month written YYYY-MM")


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


def to_money(v: Decimal) -> Decimal:
    return v.quantize(CENT, rounding=ROUND_HALF_UP)


Day = Annotated[date, BeforeValidator(_date), PlainSerializer(lambda d: d.isoformat(), return_type=str)]
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
    PlainSerializer(lambda d: str(d.normalize()) if d == d.to_integral() else str(d), return_type=str),
]
Timestamp = Annotated[AwareDatetime, PlainSerializer(lambda d: d.isoformat(), return_type=str)]
Id = Annotated[str, Field(min_length=1, max_length=128)]
Text = Annotated[str, Field(max_length=20000)]
Name = Annotated[str, Field(min_length=1, max_length=200)]


def month_of(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"
