"""Numbered schema migrations. Step N takes a store from version N-1 to N.

Each step is plain SQL run statement by statement inside one transaction (not ``executescript``,
which would commit half-way), so a step is applied whole or not at all.

Never edit a step that has shipped: add a new one. ``tests/bank/data/schema_vN.sqlite`` holds a
store saved at each earlier version, and a test upgrades every one of them.
"""

from __future__ import annotations

import sqlite3


V1_COMMUNITY = """
    CREATE TABLE settings (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE compounds (
        compound_id INTEGER PRIMARY KEY,
        name        TEXT NOT NULL UNIQUE,
        buildings   INTEGER NOT NULL CHECK (buildings > 0)
    );
    CREATE TABLE service_points (
        service_point_id INTEGER PRIMARY KEY,
        compound_id      INTEGER NOT NULL UNIQUE REFERENCES compounds,
        name             TEXT NOT NULL,
        address          TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE review_groups (
        group_id    INTEGER PRIMARY KEY,
        compound_id INTEGER NOT NULL UNIQUE REFERENCES compounds,
        name        TEXT NOT NULL
    );
    CREATE TABLE volunteer_teams (
        team_id     INTEGER PRIMARY KEY,
        name        TEXT NOT NULL UNIQUE,
        description TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE accounts (
        account_id   INTEGER PRIMARY KEY,
        kind         TEXT NOT NULL CHECK (kind IN ('household', 'single')),
        display_name TEXT NOT NULL,
        compound_id  INTEGER NOT NULL REFERENCES compounds,
        building     INTEGER NOT NULL,
        unit         INTEGER NOT NULL,
        room         TEXT NOT NULL,
        status       TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'closed')),
        pin_hash     TEXT,
        created_at   TEXT NOT NULL
    );
    CREATE INDEX accounts_by_address ON accounts (compound_id, building, unit);
    CREATE TABLE members (
        member_id  INTEGER PRIMARY KEY,
        account_id INTEGER NOT NULL REFERENCES accounts,
        name       TEXT NOT NULL,
        relation   TEXT NOT NULL DEFAULT '本人',
        is_holder  INTEGER NOT NULL DEFAULT 0 CHECK (is_holder IN (0, 1)),
        team_id    INTEGER REFERENCES volunteer_teams
    );
    CREATE INDEX members_by_account ON members (account_id);
    CREATE TABLE issuing_keys (
        key_id      TEXT PRIMARY KEY,
        public_key  BLOB NOT NULL,
        private_key BLOB,
        created_at  TEXT NOT NULL,
        retired_at  TEXT
    );
    -- One row per printed card version; reissue after loss adds a row with version + 1.
    CREATE TABLE cards (
        card_id    TEXT NOT NULL,
        version    INTEGER NOT NULL CHECK (version >= 1),
        account_id INTEGER NOT NULL REFERENCES accounts,
        role       TEXT NOT NULL DEFAULT 'resident' CHECK (role IN ('resident', 'staff')),
        key_id     TEXT NOT NULL REFERENCES issuing_keys,
        qr         TEXT NOT NULL UNIQUE,
        status     TEXT NOT NULL CHECK (status IN ('active', 'superseded', 'revoked')),
        issued_at  TEXT NOT NULL,
        ended_at   TEXT,
        end_reason TEXT,
        PRIMARY KEY (card_id, version)
    );
    CREATE INDEX cards_by_account ON cards (account_id);
"""


V2_CATALOG_MERCHANTS_LEDGER = """
    CREATE TABLE catalog_versions (
        version        INTEGER PRIMARY KEY,
        effective_from TEXT NOT NULL,       -- local date YYYY-MM-DD
        created_at     TEXT NOT NULL,
        note           TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE products (
        catalog_version INTEGER NOT NULL REFERENCES catalog_versions,
        code            TEXT NOT NULL,
        name            TEXT NOT NULL,
        slogan          TEXT NOT NULL,
        cadence         TEXT NOT NULL CHECK (cadence IN ('daily', 'weekly', 'monthly', 'yearly')),
        PRIMARY KEY (catalog_version, code)
    );
    CREATE TABLE rule_items (
        catalog_version INTEGER NOT NULL REFERENCES catalog_versions,
        code            TEXT NOT NULL,
        product_code    TEXT NOT NULL,
        heading         TEXT NOT NULL,
        name            TEXT NOT NULL,
        points          INTEGER NOT NULL CHECK (typeof(points) = 'integer' AND points <> 0),
        cap             INTEGER CHECK (cap IS NULL OR cap > 0),
        description     TEXT NOT NULL,
        PRIMARY KEY (catalog_version, code),
        FOREIGN KEY (catalog_version, product_code) REFERENCES products (catalog_version, code)
    );
    CREATE TABLE merchants (
        merchant_id INTEGER PRIMARY KEY,
        name        TEXT NOT NULL UNIQUE,
        category    TEXT NOT NULL,
        compound_id INTEGER REFERENCES compounds,
        address     TEXT NOT NULL DEFAULT '',
        status      TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'left'))
    );
    CREATE TABLE offers (
        offer_id    INTEGER PRIMARY KEY,
        merchant_id INTEGER NOT NULL REFERENCES merchants,
        name        TEXT NOT NULL,
        points      INTEGER NOT NULL CHECK (typeof(points) = 'integer' AND points > 0),
        value_fen   INTEGER NOT NULL CHECK (typeof(value_fen) = 'integer' AND value_fen >= 0),
        active      INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
        UNIQUE (merchant_id, name)
    );
    CREATE TABLE ledger_entries (
        entry_id          INTEGER PRIMARY KEY,
        account_id        INTEGER NOT NULL REFERENCES accounts,
        kind              TEXT NOT NULL CHECK (kind IN
                            ('award', 'deduction', 'redemption', 'reversal', 'expiry', 'adjustment')),
        points            INTEGER NOT NULL CHECK (typeof(points) = 'integer' AND points <> 0),
        item_code         TEXT,
        catalog_version   INTEGER REFERENCES catalog_versions,
        period_key        TEXT,
        merchant_id       INTEGER REFERENCES merchants,
        offer_id          INTEGER REFERENCES offers,
        quantity          INTEGER CHECK (quantity IS NULL OR quantity > 0),
        reverses_entry_id INTEGER UNIQUE REFERENCES ledger_entries,
        recorded_by       TEXT NOT NULL,
        device_id         TEXT NOT NULL DEFAULT 'office',
        device_time       TEXT,
        recorded_at       TEXT NOT NULL,
        note              TEXT NOT NULL DEFAULT '',
        ref               TEXT UNIQUE,     -- idempotency key: a device event, an expiry run, ...
        CHECK (kind NOT IN ('award') OR points > 0),
        CHECK (kind NOT IN ('deduction', 'redemption', 'expiry') OR points < 0),
        CHECK (kind NOT IN ('award', 'deduction') OR (item_code IS NOT NULL AND catalog_version IS NOT NULL)),
        CHECK (kind <> 'redemption' OR (offer_id IS NOT NULL AND merchant_id IS NOT NULL)),
        CHECK ((kind = 'reversal') = (reverses_entry_id IS NOT NULL))
    );
    CREATE INDEX ledger_by_account ON ledger_entries (account_id, entry_id, points);
    CREATE INDEX ledger_by_item_period ON ledger_entries (account_id, item_code, period_key);
    CREATE INDEX ledger_by_time ON ledger_entries (recorded_at);
    CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger_entries
    BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only: post a reversal instead'); END;
    CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger_entries
    BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only: post a reversal instead'); END;
"""


V3_POLICY = """
    -- Offline risk policy: the row with merchant_id NULL is the community default; a merchant's
    -- row overrides the columns it sets (NULL = inherit).
    CREATE TABLE offline_policy (
        policy_id            INTEGER PRIMARY KEY,
        merchant_id          INTEGER UNIQUE REFERENCES merchants,
        per_card_daily_cap   INTEGER CHECK (per_card_daily_cap > 0),
        floor_limit          INTEGER CHECK (floor_limit > 0),
        unsynced_cap         INTEGER CHECK (unsynced_cap > 0),
        max_sync_age_hours   INTEGER CHECK (max_sync_age_hours > 0),
        void_minutes         INTEGER CHECK (void_minutes >= 0),
        pin_above            INTEGER CHECK (pin_above >= 0)
    );
    CREATE UNIQUE INDEX offline_policy_one_default ON offline_policy ((merchant_id IS NULL))
        WHERE merchant_id IS NULL;
    -- Redemption windows (兑换时限): when and where points can be redeemed.
    CREATE TABLE redemption_windows (
        window_id   INTEGER PRIMARY KEY,
        merchant_id INTEGER REFERENCES merchants,   -- NULL: the community redemption point
        place       TEXT NOT NULL,
        weekdays    TEXT NOT NULL CHECK (length(weekdays) = 7 AND weekdays GLOB '[01][01][01][01][01][01][01]'),
        opens       TEXT NOT NULL,                  -- local HH:MM
        closes      TEXT NOT NULL,
        CHECK (opens < closes)
    );
"""


V4_DEVICES_SYNC = """
    -- Enrolled devices: merchant tablets (merchant_id set) and kiosks (service_point_id set).
    -- last_seq/last_hash are the head of the device's event chain as the office holds it.
    CREATE TABLE devices (
        device_id        TEXT PRIMARY KEY,
        kind             TEXT NOT NULL CHECK (kind IN ('tablet', 'kiosk')),
        merchant_id      INTEGER REFERENCES merchants,
        service_point_id INTEGER REFERENCES service_points,
        public_key       BLOB NOT NULL UNIQUE CHECK (length(public_key) = 32),
        label            TEXT NOT NULL DEFAULT '',
        status           TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
        enrolled_at      TEXT NOT NULL,
        revoked_at       TEXT,
        last_seq         INTEGER NOT NULL DEFAULT 0,
        last_hash        TEXT NOT NULL,
        last_push_at     TEXT,
        last_pull_at     TEXT,
        clock_skew_s     INTEGER,             -- device clock minus office clock at the last request
        CHECK ((kind = 'tablet') = (merchant_id IS NOT NULL)),
        CHECK ((kind = 'kiosk') = (service_point_id IS NOT NULL))
    );
    -- One-time enrolment codes; only a hash of the code is kept.
    CREATE TABLE enrolment_codes (
        code_hash        TEXT PRIMARY KEY,
        kind             TEXT NOT NULL CHECK (kind IN ('tablet', 'kiosk')),
        merchant_id      INTEGER REFERENCES merchants,
        service_point_id INTEGER REFERENCES service_points,
        created_at       TEXT NOT NULL,
        expires_at       TEXT NOT NULL,
        used_at          TEXT,
        device_id        TEXT REFERENCES devices
    );
    -- Every event a device pushed, as received: the chain the office verified. ``signature`` is
    -- the device's batch signature, kept on the event that was the head of its batch.
    CREATE TABLE device_events (
        device_id   TEXT NOT NULL REFERENCES devices,
        seq         INTEGER NOT NULL CHECK (seq >= 1),
        hash        TEXT NOT NULL,
        prev_hash   TEXT NOT NULL,
        kind        TEXT NOT NULL,
        body        TEXT NOT NULL,            -- the canonical JSON the hash covers
        device_time TEXT NOT NULL,
        received_at TEXT NOT NULL,
        entry_id    INTEGER REFERENCES ledger_entries,   -- NULL: not settled, see alerts
        signature   TEXT,
        PRIMARY KEY (device_id, seq)
    ) WITHOUT ROWID;
    CREATE TRIGGER device_events_no_update BEFORE UPDATE ON device_events
    BEGIN SELECT RAISE(ABORT, 'device events are append-only'); END;
    -- Things the office must look at: chain forks and gaps, forged or foreign events,
    -- overdrafts found at settlement, clock skew.
    CREATE TABLE alerts (
        alert_id   INTEGER PRIMARY KEY,
        raised_at  TEXT NOT NULL,
        kind       TEXT NOT NULL,
        device_id  TEXT,
        account_id INTEGER REFERENCES accounts,
        card_id    TEXT,
        detail     TEXT NOT NULL DEFAULT '',
        cleared_at TEXT,
        cleared_by TEXT
    );
    CREATE INDEX alerts_open ON alerts (cleared_at, kind);
    -- A card held after an overdraft: on the deny list until the office clears it.
    CREATE TABLE card_holds (
        hold_id    INTEGER PRIMARY KEY,
        card_id    TEXT NOT NULL,
        account_id INTEGER NOT NULL REFERENCES accounts,
        reason     TEXT NOT NULL,
        alert_id   INTEGER REFERENCES alerts,
        placed_at  TEXT NOT NULL,
        cleared_at TEXT,
        cleared_by TEXT
    );
    CREATE UNIQUE INDEX card_holds_one_open ON card_holds (card_id) WHERE cleared_at IS NULL;
    -- Accounts whose replica rows changed other than through the ledger (status, PIN, cards,
    -- holds): a pull delta sends them again. Ledger changes are found by entry_id.
    CREATE TABLE replica_changes (
        change_id  INTEGER PRIMARY KEY,
        account_id INTEGER NOT NULL
    );
    CREATE TRIGGER accounts_changed AFTER UPDATE OF status, pin_hash, display_name ON accounts
    BEGIN INSERT INTO replica_changes (account_id) VALUES (NEW.account_id); END;
    CREATE TRIGGER cards_added AFTER INSERT ON cards
    BEGIN INSERT INTO replica_changes (account_id) VALUES (NEW.account_id); END;
    CREATE TRIGGER cards_changed AFTER UPDATE ON cards
    BEGIN INSERT INTO replica_changes (account_id) VALUES (NEW.account_id); END;
    CREATE TRIGGER holds_added AFTER INSERT ON card_holds
    BEGIN INSERT INTO replica_changes (account_id) VALUES (NEW.account_id); END;
    CREATE TRIGGER holds_changed AFTER UPDATE ON card_holds
    BEGIN INSERT INTO replica_changes (account_id) VALUES (NEW.account_id); END;
"""


V5_COUNCIL_CONSOLE = """
    -- People who log in to the office console. role: office (everything), council (reviews,
    -- postings, objections, honours), reviewer (one compound's review group), merchant (read-only).
    CREATE TABLE console_users (
        user_id       INTEGER PRIMARY KEY,
        name          TEXT NOT NULL UNIQUE,
        role          TEXT NOT NULL CHECK (role IN ('office', 'council', 'reviewer', 'merchant')),
        compound_id   INTEGER REFERENCES compounds,
        merchant_id   INTEGER REFERENCES merchants,
        password_hash TEXT NOT NULL,
        active        INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
        created_at    TEXT NOT NULL,
        CHECK ((role = 'reviewer') = (compound_id IS NOT NULL)),
        CHECK ((role = 'merchant') = (merchant_id IS NOT NULL))
    );
    -- Console sessions: only a hash of the session token is kept.
    CREATE TABLE console_sessions (
        token_hash TEXT PRIMARY KEY,
        user_id    INTEGER NOT NULL REFERENCES console_users,
        csrf       TEXT NOT NULL,
        created_at TEXT NOT NULL,
        seen_at    TEXT NOT NULL,
        ended_at   TEXT
    );
    -- Everything people did in the console (and the CLI commands that change data).
    CREATE TABLE audit_log (
        audit_id  INTEGER PRIMARY KEY,
        at        TEXT NOT NULL,
        actor     TEXT NOT NULL,
        action    TEXT NOT NULL,
        target    TEXT NOT NULL DEFAULT '',
        detail    TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX audit_by_action ON audit_log (action, at);
    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    -- Objections (异议): raised -> assigned -> investigated -> ruled -> answered -> filed.
    CREATE TABLE objections (
        objection_id   INTEGER PRIMARY KEY,
        account_id     INTEGER NOT NULL REFERENCES accounts,
        entry_id       INTEGER REFERENCES ledger_entries,
        points_held    INTEGER NOT NULL DEFAULT 0 CHECK (typeof(points_held) = 'integer' AND points_held >= 0),
        source         TEXT NOT NULL CHECK (source IN ('kiosk', 'office')),
        reason         TEXT NOT NULL,
        raised_by      TEXT NOT NULL,
        raised_at      TEXT NOT NULL,
        status         TEXT NOT NULL DEFAULT 'raised'
                       CHECK (status IN ('raised', 'assigned', 'investigated', 'ruled', 'answered', 'filed')),
        assigned_to    TEXT,
        findings       TEXT,
        ruling         TEXT CHECK (ruling IS NULL OR ruling IN ('upheld', 'rejected')),
        ruling_note    TEXT,
        ruled_by       TEXT,
        answer         TEXT,
        filed_by       TEXT,
        updated_at     TEXT NOT NULL
    );
    CREATE INDEX objections_open ON objections (account_id, status);
    -- Quarterly verification runs and the anomalies they found, cleared one by one by the council.
    CREATE TABLE verification_runs (
        run_id     INTEGER PRIMARY KEY,
        quarter    TEXT NOT NULL,
        run_at     TEXT NOT NULL,
        run_by     TEXT NOT NULL,
        checked_entries INTEGER NOT NULL
    );
    CREATE TABLE anomalies (
        anomaly_id INTEGER PRIMARY KEY,
        run_id     INTEGER NOT NULL REFERENCES verification_runs,
        kind       TEXT NOT NULL,
        account_id INTEGER REFERENCES accounts,
        entry_id   INTEGER REFERENCES ledger_entries,
        alert_id   INTEGER REFERENCES alerts,
        detail     TEXT NOT NULL,
        cleared_at TEXT,
        cleared_by TEXT,
        clear_note TEXT
    );
    CREATE INDEX anomalies_by_run ON anomalies (run_id, cleared_at);
    -- Postings (公示) per compound: quarterly (period 2026Q3) or year-end (period 2026).
    CREATE TABLE postings (
        posting_id  INTEGER PRIMARY KEY,
        kind        TEXT NOT NULL CHECK (kind IN ('quarterly', 'yearly')),
        period      TEXT NOT NULL,
        compound_id INTEGER NOT NULL REFERENCES compounds,
        opens_on    TEXT NOT NULL,          -- local dates of the posting period
        closes_on   TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        created_by  TEXT NOT NULL,
        UNIQUE (kind, period, compound_id),
        CHECK (opens_on <= closes_on)
    );
    -- Tips (举报): reports of misconduct, recorded and followed up.
    CREATE TABLE tips (
        tip_id      INTEGER PRIMARY KEY,
        received_at TEXT NOT NULL,
        channel     TEXT NOT NULL CHECK (channel IN ('phone', 'visit', 'letter', 'kiosk', 'other')),
        compound_id INTEGER REFERENCES compounds,
        account_id  INTEGER REFERENCES accounts,
        content     TEXT NOT NULL,
        status      TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'following', 'closed')),
        follow_up   TEXT NOT NULL DEFAULT '',
        recorded_by TEXT NOT NULL,
        updated_at  TEXT NOT NULL
    );
    -- Honours (表彰): nominations from four sources and the council's decision on each.
    CREATE TABLE honour_nominations (
        nomination_id INTEGER PRIMARY KEY,
        year          INTEGER NOT NULL,
        honour        TEXT NOT NULL CHECK (honour IN ('moral_model', 'law_star', 'law_learner', 'volunteer')),
        account_id    INTEGER NOT NULL REFERENCES accounts,
        source        TEXT NOT NULL CHECK (source IN ('residents', 'unit', 'council', 'assembly')),
        nominator     TEXT NOT NULL,
        reason        TEXT NOT NULL,
        created_at    TEXT NOT NULL,
        created_by    TEXT NOT NULL,
        decision      TEXT CHECK (decision IS NULL OR decision IN ('awarded', 'declined')),
        decided_at    TEXT,
        decided_by    TEXT,
        UNIQUE (year, honour, account_id, source)
    );
    -- A volunteer team's service on one day; each member account gets its points as a ledger
    -- entry whose ref is 'team:<service_id>:<account_id>'.
    CREATE TABLE team_services (
        service_id  INTEGER PRIMARY KEY,
        team_id     INTEGER NOT NULL REFERENCES volunteer_teams,
        served_on   TEXT NOT NULL,
        item_code   TEXT NOT NULL,
        description TEXT NOT NULL,
        recorded_by TEXT NOT NULL,
        recorded_at TEXT NOT NULL
    );
"""


V6_REVIEW_MEMBERS = """
    -- Members of a compound's review group (评议小组成员) who record entries at the kiosk: each
    -- belongs to a resident account (their own household: they may not record for it), holds a
    -- staff card (cards.role = 'staff', issued on that account) and a PIN (scrypt hash).
    CREATE TABLE reviewers (
        reviewer_id INTEGER PRIMARY KEY,
        compound_id INTEGER NOT NULL REFERENCES compounds,
        account_id  INTEGER NOT NULL REFERENCES accounts,
        name        TEXT NOT NULL,
        card_id     TEXT NOT NULL UNIQUE,
        pin_hash    TEXT NOT NULL,
        active      INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
        created_at  TEXT NOT NULL
    );
    CREATE INDEX reviewers_by_compound ON reviewers (compound_id, active);
"""


V7_CONSOLE_REVIEWERS = """
    -- A console user who is a review-group member is linked to their reviewers row, so that the
    -- office applies the same recusal (by household account, never by name) as the kiosk.
    ALTER TABLE console_users ADD COLUMN reviewer_id INTEGER REFERENCES reviewers;
    CREATE UNIQUE INDEX console_users_by_reviewer ON console_users (reviewer_id) WHERE reviewer_id IS NOT NULL;
"""


V8_REQUEST_FRESHNESS = """
    -- The device-clock time text of the last request the office accepted from each device: a
    -- signed request whose time is not strictly later is a replay and is refused. Devices make
    -- their request times strictly increasing themselves, so a device clock that jumps back
    -- does not lock them out.
    ALTER TABLE devices ADD COLUMN last_request_time TEXT;
    -- Only awards and deductions carry an item code (caps count them per period); redemptions,
    -- the bulk of device ingest, no longer pay for an index entry they never use.
    DROP INDEX ledger_by_item_period;
    CREATE INDEX ledger_by_item_period ON ledger_entries (account_id, item_code, period_key)
        WHERE item_code IS NOT NULL;
"""


V9_CARRIED_VALIDITY = """
    -- Points moved between accounts (households merged or split) keep the validity they had:
    -- the incoming adjustment names the last local day its points are valid. NULL: the points
    -- are valid by the entry's own date, as every other entry.
    ALTER TABLE ledger_entries ADD COLUMN valid_until TEXT
        CHECK (valid_until IS NULL OR (kind = 'adjustment' AND points > 0 AND valid_until GLOB
               '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'));
"""


V10_ATTEMPT_LIMITS = """
    -- Wrong PINs and passwords per scope and subject (bank.attempts): a count that a right answer
    -- clears, and a lock time. Mutable on purpose; every failure is also in the audit log.
    CREATE TABLE attempt_limits (
        scope           TEXT NOT NULL,
        subject         TEXT NOT NULL,
        failures        INTEGER NOT NULL CHECK (failures >= 0),
        last_failure_at TEXT,
        locked_until    TEXT,
        PRIMARY KEY (scope, subject)
    );
"""


V11_ENROLMENT_V2 = """
    -- Enrolment protocol 2: the device proves it knows the code with an HMAC and never sends it.
    -- A code is found by its public id (the first group of the printed code); the office keeps
    -- the HMAC key derived from the code (not the code), and only while the code is outstanding:
    -- it is wiped when the code is used or has expired. Codes made before this step have no id
    -- and can no longer be used (make new ones).
    ALTER TABLE enrolment_codes ADD COLUMN code_id TEXT;
    ALTER TABLE enrolment_codes ADD COLUMN code_key BLOB CHECK (code_key IS NULL OR length(code_key) = 32);
    CREATE UNIQUE INDEX enrolment_codes_by_id ON enrolment_codes (code_id) WHERE code_id IS NOT NULL;
    -- Request times are now bounded by office time + 1 day. A device whose last accepted request
    -- time lies beyond that (accepted before the bound, e.g. '9999-99-99T99:99:99.999999Z') would
    -- be refused for good: its last time becomes now, which every captured request predates.
    UPDATE devices SET last_request_time = strftime('%Y-%m-%dT%H:%M:%S', 'now') || '.000000Z'
        WHERE last_request_time > strftime('%Y-%m-%dT%H:%M:%S', 'now', '+1 day') || '.000000Z';
"""


MIGRATIONS = [V1_COMMUNITY, V2_CATALOG_MERCHANTS_LEDGER, V3_POLICY, V4_DEVICES_SYNC, V5_COUNCIL_CONSOLE,
              V6_REVIEW_MEMBERS, V7_CONSOLE_REVIEWERS, V8_REQUEST_FRESHNESS, V9_CARRIED_VALIDITY,
              V10_ATTEMPT_LIMITS, V11_ENROLMENT_V2]


def statements(script: str):
    """Split a migration script into statements (triggers keep their inner semicolons)."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            yield pending.strip()
            pending = ""
    if pending.strip():
        raise ValueError(f"incomplete SQL statement in migration: {pending.strip()[:60]}")
