"""POST /api/transfers, POST /api/transfers/<id>/confirm, GET /api/transfers/<id>."""

from decimal import Decimal

from flask import current_app
from flask_openapi3 import APIBlueprint, Tag

from app import metrics
from app.api import operation_id, responses
from app.api.auth import SECURITY, login_required, run_signed_in, utcnow
from app.api.schemas import ConfirmIn, IdempotencyHeader, TransferIn, TransferOut, TransferPath
from app.bank import mtan, transfers, users
from app.bank.errors import BankError, InvalidTan, TanExpired

bp = APIBlueprint("transfers", __name__, url_prefix="/api/transfers", abp_tags=[Tag(name="transfers")],
                  abp_security=SECURITY,
                  operation_id_callback=operation_id)


def rules() -> transfers.TransferRules:
    config = current_app.config
    return transfers.TransferRules(
        tan_secret=config["TAN_SECRET"], max_amount=Decimal(config["TRANSFER_MAX_AMOUNT"]),
        tan_lifetime=config["TAN_LIFETIME"], tan_max_attempts=config["TAN_MAX_ATTEMPTS"])


@bp.post("", responses=responses(201, TransferOut, 401, 422))
@login_required
def create_transfer(session: users.Session, header: IdempotencyHeader, body: TransferIn):
    """Create a pending transfer and send its mTAN by SMS. A retry with the same Idempotency-Key
    answers the same transfer; the same key with another body is refused (422)."""
    new = transfers.NewTransfer(
        recipient_iban=body.recipientIban.replace(" ", "").upper(), recipient_name=body.recipientName.strip(),
        amount=Decimal(body.amount), comment=body.comment, tags=tuple(body.tags))
    try:
        status, answer = run_signed_in(session, lambda conn, caller: transfers.create(
            conn, caller, header.idempotency_key, new, rules(), mtan.DemoOutbox(), utcnow()),
            idempotency_key=header.idempotency_key)
    except BankError as error:
        metrics.TRANSFERS_REJECTED.labels(error.code).inc()
        raise
    metrics.TRANSFERS_CREATED.inc()
    return answer, status


@bp.post("/<int:transfer_id>/confirm", responses=responses(200, TransferOut, 401, 404, 409, 410, 422))
@login_required
def confirm_transfer(session: users.Session, path: TransferPath, body: ConfirmIn):
    """Book the transfer with its mTAN. Wrong mTAN: 422 with attemptsLeft; the third wrong one
    cancels it (409 afterwards); expired: 410. Confirming a booked transfer again answers it again."""
    try:
        answer, booked_now = run_signed_in(session, lambda conn, caller: transfers.confirm(
            conn, caller, path.transfer_id, body.tan, rules(), utcnow()))
    except InvalidTan:
        metrics.MTAN_CHECKS.labels("wrong").inc()
        raise
    except TanExpired:
        metrics.MTAN_CHECKS.labels("expired").inc()
        raise
    except BankError as error:
        metrics.TRANSFERS_REJECTED.labels(error.code).inc()
        raise
    if booked_now:
        metrics.MTAN_CHECKS.labels("ok").inc()
        metrics.TRANSFERS_BOOKED.inc()
    return answer


@bp.get("/<int:transfer_id>", responses=responses(200, TransferOut, 401, 404))
@login_required
def get_transfer(session: users.Session, path: TransferPath):
    """One of the caller's transfers with its status."""
    return run_signed_in(session, lambda conn, caller: transfers.get(conn, caller, path.transfer_id, rules()))
