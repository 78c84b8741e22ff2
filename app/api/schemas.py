"""The API's contract: pydantic models that validate requests and generate the OpenAPI document."""

import copy
import re
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from app.bank.accounts import CURSOR_PATTERN
from app.bank.money import AMOUNT_PATTERN, POSITIVE_AMOUNT_PATTERN

# Formats are stated here, in the document, so that only business rules answer 422 and 409. Patterns
# use explicit character classes: \d, \s and \S differ between Rust (pydantic), Python and JavaScript.
MONEY = "Euros as a decimal string with up to two places and no leading zeros, e.g. \"12.50\""
# A name is printable text with at least one visible character: no control characters or line
# breaks, and not only spaces (the spaces of every dialect's \s that are not control characters).
_CONTROL = r"\x00-\x1f\x7f-\x9f\u2028\u2029"
_SPACES = r" \xa0\u1680\u2000-\u200a\u202f\u205f\u3000\ufeff"
NAME_PATTERN = rf"^[{_SPACES}]*[^{_CONTROL}{_SPACES}][^{_CONTROL}]*$"
# An IBAN as people write it: any case, spaces anywhere between the characters (they are ignored).
IBAN_INPUT_PATTERN = r"^ *[A-Za-z] *[A-Za-z] *[0-9] *[0-9]( *[A-Za-z0-9]){11,30} *$"


def _iso_day(value):
    """pydantic's lax date also takes a number of seconds ("0" is 1970-01-01); the document says YYYY-MM-DD."""
    if isinstance(value, str) and not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise ValueError("a day is written YYYY-MM-DD")
    return value


Day = Annotated[date, BeforeValidator(_iso_day)]


def _json_integer(value):
    """JSON's integers, as the document's "integer" means them: 7 and 7.0, but not true or "7"
    (pydantic's lax int takes those; its strict int refuses 7.0, which JSON Schema calls an integer)."""
    if isinstance(value, bool | str):
        raise ValueError("an integer is a JSON number without a fraction")
    return value


JsonInt = Annotated[int, BeforeValidator(_json_integer)]


class SchemaOnce(BaseModel):
    """For header and query models. flask-openapi3 4.3.2 (the newest) builds such a model's JSON
    schema on every request, only to read its properties' types (request.py, _validate_header and
    _validate_query): 0.6 ms of CPU per POST /api/transfers for one header. A class's schema never
    changes while running, so it is built once; each caller gets its own copy to change."""

    @classmethod
    def model_json_schema(cls, *args, **kwargs) -> dict:
        key = (cls, args, tuple(sorted(kwargs.items())))
        if key not in _SCHEMAS:
            _SCHEMAS[key] = super().model_json_schema(*args, **kwargs)
        return copy.deepcopy(_SCHEMAS[key])


_SCHEMAS: dict[tuple, dict] = {}


class Strict(BaseModel):
    """Unknown keys are an error, not silently ignored. A request model's "example" (OpenAPI's
    keyword, which flask-openapi3 keeps) is a valid request: schemathesis sends it first."""

    model_config = ConfigDict(extra="forbid")



# --- errors ---------------------------------------------------------------------------------

class ErrorDetail(BaseModel):
    code: str = Field(description="Machine-readable, e.g. invalid_tan")
    message: str = Field(description="For people")
    details: dict | None = None


class ErrorOut(BaseModel):
    error: ErrorDetail


# --- auth -----------------------------------------------------------------------------------

class LoginIn(Strict):
    model_config = ConfigDict(json_schema_extra={"example": {"username": "customer@example.com",
                                                              "password": "not-a-real-password"}})
    username: str = Field(min_length=1, max_length=254, description="The customer's e-mail address")
    password: str = Field(min_length=1, max_length=128)


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["JWT"] = "JWT"
    expires_in: int = Field(description="Seconds until the token expires")


class LogoutOut(BaseModel):
    revoked: bool


# --- user and account -------------------------------------------------------------------------

class UserOut(BaseModel):
    firstName: str
    lastName: str
    email: str
    iban: str
    bic: str
    balance: str
    limit: str
    remaining: str = Field(description="The monthly limit minus this calendar month's outgoing transfers")


class LimitIn(Strict):
    model_config = ConfigDict(json_schema_extra={"example": {"limit": "1500.00"}})
    limit: str = Field(pattern=AMOUNT_PATTERN, description=MONEY)


class AccountOut(BaseModel):
    iban: str
    bic: str
    balance: str
    currency: Literal["EUR"]


class Tag(BaseModel):
    title: str
    color: str
    icon: str


class TagsOut(BaseModel):
    tags: list[Tag]


class DateRange(Strict, SchemaOnce):
    from_: Day | None = Field(default=None, alias="from", description="First day (inclusive), YYYY-MM-DD")
    to: Day | None = Field(default=None, description="Last day (inclusive), YYYY-MM-DD")


class ActivityQuery(DateRange):
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = Field(default=None, pattern=CURSOR_PATTERN,
                               description="nextCursor of the previous page: the items after it")
    direction: Literal["in", "out"] | None = None
    tag: str | None = Field(default=None, max_length=64)


class ActivityItem(BaseModel):
    id: int
    direction: Literal["in", "out"]
    amount: str
    counterpartyName: str
    counterpartyIban: str
    comment: str
    tags: list[Tag]
    createdAt: str


class ActivityOut(BaseModel):
    model_config = ConfigDict(openapi_extra={"links": {"NextPage": {
        "operationId": "get_activity", "parameters": {"cursor": "$response.body#/nextCursor"},
        "description": "The next page of the same activity"}}})
    items: list[ActivityItem]
    nextCursor: str | None = Field(pattern=CURSOR_PATTERN, description="null on the last page")


# --- transfers ------------------------------------------------------------------------------

class IdempotencyHeader(SchemaOnce):
    idempotency_key: str = Field(alias="Idempotency-Key", min_length=8, max_length=255,
                                 pattern=r"^[A-Za-z0-9_.:-]+$",
                                 description="A new random key (a UUID) per transfer attempt; "
                                             "a retry sends the same key")


class TransferIn(Strict):
    model_config = ConfigDict(json_schema_extra={"example": {
        "recipientIban": "AT69 1000 1000 0000 0002", "recipientName": "Gabi Musterfrau", "amount": "12.50",
        "comment": "Pizza", "tags": ["Leisure"]}})
    recipientIban: str = Field(min_length=15, max_length=42, pattern=IBAN_INPUT_PATTERN,
                               description="IBAN, any case; spaces are ignored. Its check digits and whether "
                                           "PiggyBank knows it are business rules (422)")
    recipientName: str = Field(min_length=1, max_length=200, pattern=NAME_PATTERN)
    amount: str = Field(pattern=POSITIVE_AMOUNT_PATTERN, description=f"{MONEY}; more than 0.00")
    comment: str = Field(default="", max_length=500)
    tags: list[str] = Field(default_factory=list, max_length=6,
                            description="Titles from GET /api/tags; an unknown one is refused (422)")


class TransferPath(BaseModel):
    transfer_id: int = Field(ge=1, le=2**62)


class ConfirmIn(Strict):
    model_config = ConfigDict(json_schema_extra={"example": {"tan": "123456"}})
    tan: str = Field(pattern=r"^[0-9]{6}$", description="The six-digit mTAN from the SMS")


class TransferOut(BaseModel):
    model_config = ConfigDict(openapi_extra={"links": {
        "GetTransfer": {"operationId": "get_transfer", "parameters": {"transfer_id": "$response.body#/id"},
                        "description": "The transfer's status"},
        "ConfirmTransfer": {"operationId": "confirm_transfer", "parameters": {"transfer_id": "$response.body#/id"},
                            "description": "Book it with the mTAN from the SMS"}}})
    id: int
    status: Literal["pending", "booked", "cancelled", "expired", "rejected"]
    amount: str
    currency: Literal["EUR"]
    recipientIban: str
    recipientName: str
    comment: str
    tags: list[Tag]
    createdAt: str
    expiresAt: str | None
    bookedAt: str | None
    tanAttemptsLeft: int
    rejectReason: str | None


# --- statistics -----------------------------------------------------------------------------

class StatsQuery(DateRange):
    interval: Literal["daily", "monthly", "yearly"] = "monthly"
    direction: Literal["in", "out"] = "out"
    tag: str | None = Field(default=None, max_length=64)


class StatsPoint(BaseModel):
    period: str
    amount: str


class StatsOut(BaseModel):
    interval: Literal["daily", "monthly", "yearly"]
    direction: Literal["in", "out"]
    series: list[StatsPoint]


# --- notifications and the demo phone -------------------------------------------------------

class NotificationsQuery(Strict, SchemaOnce):
    after: int = Field(default=0, ge=0, le=2**62)


class Notification(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: int
    type: str
    createdAt: str
    read: bool


class NotificationsOut(BaseModel):
    items: list[Notification]
    unread: int


class ReadIn(Strict):
    upTo: JsonInt = Field(ge=0, le=2**62)


class ReadOut(BaseModel):
    marked: int
    unread: int


class Sms(BaseModel):
    id: int
    phone: str
    body: str
    createdAt: str


class SmsOut(BaseModel):
    messages: list[Sms]


# --- health ---------------------------------------------------------------------------------

class DbHealth(BaseModel):
    status: Literal["ok", "slow", "down"]
    latency_ms: float | None


class LivenessOut(BaseModel):
    status: Literal["alive"]
    instance: str
    pid: int


class HealthOut(BaseModel):
    status: Literal["ok", "degraded", "down"]
    instance: str
    version: str
    pid: int
    uptime_seconds: float
    cpu_percent: float
    memory_rss_bytes: int
    memory_percent: float
    db: DbHealth
