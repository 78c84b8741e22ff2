-- This month's spending kept on the sender's account, written by the booking that adds to it (under
-- the account's lock, in the UPDATE that moves the balance) instead of summed over the month's
-- booked transfers on every GET /api/user and every booking's limit check: that sum grew with each
-- transfer of the month (1,200 index entries per request for a load-test customer) and took a
-- locking read of its own in each confirmation. `spent_month` is the month (its first day, UTC) the
-- amount belongs to; an older month counts as nothing spent. app.bank.audit checks it against the
-- transfers.
ALTER TABLE accounts
    ADD COLUMN spent_month DATE NULL,
    ADD COLUMN spent_in_month DECIMAL(14,2) NOT NULL DEFAULT 0;
UPDATE accounts a SET
    a.spent_month = DATE_FORMAT(UTC_TIMESTAMP(), '%Y-%m-01'),
    a.spent_in_month = (SELECT COALESCE(SUM(t.amount), 0) FROM transfers t
                        WHERE t.sender_account_id = a.id AND t.status = 'booked'
                          AND t.booked_at >= DATE_FORMAT(UTC_TIMESTAMP(), '%Y-%m-01'));
