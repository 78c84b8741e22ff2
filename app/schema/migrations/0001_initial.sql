-- PiggyBank schema. Money is DECIMAL(14,2); times are UTC DATETIME(6).
-- Balances live on accounts and are derivable: balance = opening_balance + SUM(ledger_entries.amount).

CREATE TABLE users (
    id             INT AUTO_INCREMENT PRIMARY KEY,
    first_name     VARCHAR(200) NOT NULL,
    last_name      VARCHAR(200) NOT NULL,
    email          VARCHAR(254) NOT NULL,
    password_hash  VARCHAR(100) NOT NULL,
    phone          VARCHAR(32)  NOT NULL,
    monthly_limit  DECIMAL(14,2) NOT NULL,
    failed_logins  INT NOT NULL DEFAULT 0,
    locked_until   DATETIME(6) NULL,
    created_at     DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6),
    UNIQUE KEY uq_users_email (email),
    CONSTRAINT ck_users_limit CHECK (monthly_limit >= 0)
) ENGINE=InnoDB;

-- A customer account has a user; an external account (a merchant such as Interspar) has none.
CREATE TABLE accounts (
    id              INT AUTO_INCREMENT PRIMARY KEY,
    iban            VARCHAR(34) NOT NULL,
    bic             VARCHAR(11) NOT NULL,
    holder_name     VARCHAR(200) NOT NULL,
    user_id         INT NULL,
    opening_balance DECIMAL(14,2) NOT NULL DEFAULT 0,
    balance         DECIMAL(14,2) NOT NULL DEFAULT 0,
    UNIQUE KEY uq_accounts_iban (iban),
    UNIQUE KEY uq_accounts_user (user_id),
    CONSTRAINT fk_accounts_user FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE=InnoDB;

CREATE TABLE tags (
    id    INT AUTO_INCREMENT PRIMARY KEY,
    title VARCHAR(64) NOT NULL,
    color VARCHAR(100) NOT NULL,
    icon  VARCHAR(100) NOT NULL,
    UNIQUE KEY uq_tags_title (title)
) ENGINE=InnoDB;

-- A transfer is created pending (an mTAN is sent) and becomes booked, cancelled, expired or rejected.
-- historical = 1 marks the seeded transfers from before the accounts were opened: they count in
-- activity and statistics but did not move the opening balances.
CREATE TABLE transfers (
    id                   BIGINT AUTO_INCREMENT PRIMARY KEY,
    sender_account_id    INT NOT NULL,
    recipient_account_id INT NOT NULL,
    recipient_name       VARCHAR(200) NOT NULL,
    amount               DECIMAL(14,2) NOT NULL,
    comment              VARCHAR(500) NOT NULL DEFAULT '',
    status               ENUM('pending','booked','cancelled','expired','rejected') NOT NULL,
    reject_reason        VARCHAR(64) NULL,
    historical           TINYINT(1) NOT NULL DEFAULT 0,
    tan_hash             CHAR(64) NULL,
    tan_attempts         INT NOT NULL DEFAULT 0,
    created_at           DATETIME(6) NOT NULL,
    expires_at           DATETIME(6) NULL,
    booked_at            DATETIME(6) NULL,
    KEY ix_transfers_sender (sender_account_id, status, booked_at),
    KEY ix_transfers_recipient (recipient_account_id, status, booked_at),
    CONSTRAINT fk_transfers_sender FOREIGN KEY (sender_account_id) REFERENCES accounts (id),
    CONSTRAINT fk_transfers_recipient FOREIGN KEY (recipient_account_id) REFERENCES accounts (id),
    CONSTRAINT ck_transfers_amount CHECK (amount > 0)
) ENGINE=InnoDB;

CREATE TABLE transfer_tags (
    transfer_id BIGINT NOT NULL,
    tag_id      INT NOT NULL,
    PRIMARY KEY (transfer_id, tag_id),
    CONSTRAINT fk_transfer_tags_transfer FOREIGN KEY (transfer_id) REFERENCES transfers (id),
    CONSTRAINT fk_transfer_tags_tag FOREIGN KEY (tag_id) REFERENCES tags (id)
) ENGINE=InnoDB;

-- Double entry: every booked transfer writes a debit on the sender and a credit on the recipient.
CREATE TABLE ledger_entries (
    id            BIGINT AUTO_INCREMENT PRIMARY KEY,
    account_id    INT NOT NULL,
    transfer_id   BIGINT NOT NULL,
    amount        DECIMAL(14,2) NOT NULL,
    balance_after DECIMAL(14,2) NOT NULL,
    created_at    DATETIME(6) NOT NULL,
    UNIQUE KEY uq_ledger_transfer_account (transfer_id, account_id),
    KEY ix_ledger_account (account_id),
    CONSTRAINT fk_ledger_account FOREIGN KEY (account_id) REFERENCES accounts (id),
    CONSTRAINT fk_ledger_transfer FOREIGN KEY (transfer_id) REFERENCES transfers (id)
) ENGINE=InnoDB;

-- Written in the same transaction as the transfer, so a retry on either app server is recognised.
CREATE TABLE idempotency_keys (
    user_id         INT NOT NULL,
    idem_key        VARCHAR(255) NOT NULL,
    request_hash    CHAR(64) NOT NULL,
    response_status INT NOT NULL,
    response_body   JSON NOT NULL,
    transfer_id     BIGINT NULL,
    created_at      DATETIME(6) NOT NULL,
    PRIMARY KEY (user_id, idem_key),
    KEY ix_idempotency_created (created_at),
    CONSTRAINT fk_idempotency_user FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE=InnoDB;

CREATE TABLE notifications (
    id         BIGINT AUTO_INCREMENT PRIMARY KEY,
    user_id    INT NOT NULL,
    kind       VARCHAR(64) NOT NULL,
    payload    JSON NOT NULL,
    created_at DATETIME(6) NOT NULL,
    read_at    DATETIME(6) NULL,
    KEY ix_notifications_user (user_id, id),
    CONSTRAINT fk_notifications_user FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE=InnoDB;

-- The demo SMS gateway's outbox: what would have been sent to the user's phone.
CREATE TABLE sms_outbox (
    id         BIGINT AUTO_INCREMENT PRIMARY KEY,
    user_id    INT NOT NULL,
    phone      VARCHAR(32) NOT NULL,
    body       VARCHAR(500) NOT NULL,
    created_at DATETIME(6) NOT NULL,
    KEY ix_sms_user (user_id, id),
    CONSTRAINT fk_sms_user FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE=InnoDB;

-- Logged-out tokens, shared by both app servers until they would have expired anyway.
CREATE TABLE revoked_tokens (
    jti        CHAR(36) PRIMARY KEY,
    expires_at DATETIME(6) NOT NULL,
    KEY ix_revoked_expires (expires_at)
) ENGINE=InnoDB;
