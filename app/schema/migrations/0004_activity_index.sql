-- An account's activity (app/bank/accounts.py `activity`) reads each side's booked transfers newest
-- first and stops after a page. The recipient's side has its index in that order
-- (ix_transfers_recipient: recipient, status, booked_at, then the primary key); the sender's index
-- for this month's spending has `amount` before the primary key, so a page of the sender's side was
-- sorted from all of the sender's transfers. This index is in the page's order.
ALTER TABLE transfers ADD INDEX ix_transfers_sender_booked (sender_account_id, status, booked_at);
