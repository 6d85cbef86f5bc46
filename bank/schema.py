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


V11_SETTLEMENT_CHECKS = """
    -- The office re-checks every pushed event (DESIGN invariant 6). An event that breaks a rule
    -- is kept in the device's chain but not charged: it waits here for the council, who post it
    -- (then it is booked, entry_id set) or reject it (the device's next pull says so).
    -- ``points`` is what the event would add to the account (a redemption is negative).
    CREATE TABLE quarantine (
        quarantine_id INTEGER PRIMARY KEY,
        device_id     TEXT NOT NULL REFERENCES devices,
        seq           INTEGER NOT NULL,
        kind          TEXT NOT NULL,
        card_id       TEXT,
        account_id    INTEGER REFERENCES accounts,
        points        INTEGER NOT NULL,
        value_fen     INTEGER NOT NULL DEFAULT 0,    -- goods handed over, for the donated-value ledger
        rule          TEXT NOT NULL,
        detail        TEXT NOT NULL DEFAULT '{}',
        device_time   TEXT NOT NULL,
        received_at   TEXT NOT NULL,
        status        TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'posted', 'rejected')),
        decided_by    TEXT,
        decided_at    TEXT,
        reason        TEXT,
        entry_id      INTEGER REFERENCES ledger_entries,
        UNIQUE (device_id, seq),
        CHECK ((status = 'open') = (decided_at IS NULL))
    );
    CREATE INDEX quarantine_by_status ON quarantine (status, quarantine_id);
    CREATE INDEX quarantine_by_device_day ON quarantine (device_id, received_at);
    -- What the office itself authorised online, for one device: a redemption above the floor
    -- limit or the PIN threshold (card, points), a review-group member's staff session or second
    -- confirmation (reviewer). Events cite the id; settlement checks it is theirs and unexpired.
    CREATE TABLE authorisations (
        auth_id     TEXT PRIMARY KEY,
        device_id   TEXT NOT NULL REFERENCES devices,
        purpose     TEXT NOT NULL CHECK (purpose IN ('redeem', 'staff', 'second')),
        card_id     TEXT,
        account_id  INTEGER REFERENCES accounts,
        reviewer_id INTEGER REFERENCES reviewers,
        points      INTEGER,
        issued_at   TEXT NOT NULL,
        expires_at  TEXT NOT NULL,
        used_seq    INTEGER
    );
    -- A device that broke the rules too often in a day: what it pushes is still taken and
    -- acknowledged, but quarantined, until the office clears the hold.
    ALTER TABLE devices ADD COLUMN held_at TEXT;
    ALTER TABLE devices ADD COLUMN hold_reason TEXT;
    -- The per-card daily cap is counted per device and local day of the device's clock.
    CREATE INDEX device_events_by_time ON device_events (device_id, device_time);
    -- When an account was suspended or closed (bank.accounts.set_status, the one place): a tablet
    -- that had not pulled since could not know.
    ALTER TABLE accounts ADD COLUMN status_changed_at TEXT;
    -- One open alert per device and kind (or per account for alerts without a device), with a
    -- count and the first and last time: a device cannot flood the office with alerts.
    ALTER TABLE alerts ADD COLUMN count INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE alerts ADD COLUMN last_at TEXT;
    ALTER TABLE alerts ADD COLUMN agg_key TEXT;
    CREATE UNIQUE INDEX alerts_one_open ON alerts (agg_key) WHERE cleared_at IS NULL AND agg_key IS NOT NULL;
    -- The offline policy gains the hold threshold (breaches by one device in one office day).
    ALTER TABLE offline_policy ADD COLUMN breaches_to_hold INTEGER;
"""


V12_KEY_FILES = """
    -- The issuing private keys live in key files outside the store (bank.keystore): a copy of
    -- the store must not be able to forge cards or pulls. The column stays: steps run at any
    -- connect, before 'office migrate' has written an old store's key to its file, and dropping
    -- the column here would destroy the only copy. Nothing may write a private key into it any
    -- more; emptying it is allowed. issuing_keys is not append-only: rotation retires a row in place.
    CREATE TRIGGER issuing_keys_no_private_insert BEFORE INSERT ON issuing_keys
        WHEN NEW.private_key IS NOT NULL
        BEGIN SELECT RAISE(ABORT, 'issuing private keys live in key files, not in the store'); END;
    CREATE TRIGGER issuing_keys_no_private_update BEFORE UPDATE OF private_key ON issuing_keys
        WHEN NEW.private_key IS NOT NULL
        BEGIN SELECT RAISE(ABORT, 'issuing private keys live in key files, not in the store'); END;
    -- At a rotation the retiring key signs the new key id and public key (bank.cardcode
    -- endorsement_message): pulls carry these, and a device that trusts only the old key learns
    -- the new one from them. NULL for a community's first key (devices get it at enrolment).
    ALTER TABLE issuing_keys ADD COLUMN endorsed_by TEXT;
    ALTER TABLE issuing_keys ADD COLUMN endorsement BLOB;
"""


V13_IMPORT_UPLOADS = """
    -- A spreadsheet the console previewed for an import (bank.imports), kept under a token with
    -- its hash so that the confirm imports exactly the previewed file, never a second upload.
    -- Mutable on purpose: the content is dropped once imported or after a day; the import itself
    -- is in the audit log and, for balances, in the ledger.
    CREATE TABLE import_uploads (
        token       TEXT PRIMARY KEY,
        user_id     INTEGER NOT NULL REFERENCES console_users,
        kind        TEXT NOT NULL CHECK (kind IN ('roster', 'merchants', 'balances')),
        filename    TEXT NOT NULL,
        sha256      TEXT NOT NULL CHECK (length(sha256) = 64),
        content     BLOB,
        uploaded_at TEXT NOT NULL,
        preview     TEXT NOT NULL,      -- JSON: the counts the preview showed
        imported_at TEXT,
        result      TEXT                -- JSON: what the import added
    );
"""


V14_REGISTRATION = """
    -- Registration (issue 11): the office keeps the community it serves.
    -- An account's contact phone (office only: never in a pull), and when it was closed.
    ALTER TABLE accounts ADD COLUMN phone TEXT NOT NULL DEFAULT '';
    ALTER TABLE accounts ADD COLUMN closed_at TEXT;
    -- A merchant's contact person and phone, and when it left the scheme (status 'left').
    ALTER TABLE merchants ADD COLUMN contact TEXT NOT NULL DEFAULT '';
    ALTER TABLE merchants ADD COLUMN phone TEXT NOT NULL DEFAULT '';
    ALTER TABLE merchants ADD COLUMN left_at TEXT;
    -- An offer taken off the list (active = 0) says when; it can be listed again by its name.
    ALTER TABLE offers ADD COLUMN withdrawn_at TEXT;
    -- The price an offer had before each edit, until when: a redemption is valued at the price in
    -- force when it was recorded, so editing an offer never rewrites a month already posted.
    CREATE TABLE offer_price_history (
        offer_id  INTEGER NOT NULL REFERENCES offers,
        points    INTEGER NOT NULL CHECK (typeof(points) = 'integer' AND points > 0),
        value_fen INTEGER NOT NULL CHECK (typeof(value_fen) = 'integer' AND value_fen >= 0),
        until_at  TEXT NOT NULL,
        PRIMARY KEY (offer_id, until_at)
    ) WITHOUT ROWID;
    -- A volunteer team's registration (登记备案) date, local YYYY-MM-DD.
    ALTER TABLE volunteer_teams ADD COLUMN registered_on TEXT
        CHECK (registered_on IS NULL OR registered_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]');
    -- A catalog version withdrawn before it took effect is never in force.
    ALTER TABLE catalog_versions ADD COLUMN withdrawn_at TEXT;
    -- Households merged or split: what moved, so a merge can be undone the same day.
    CREATE TABLE household_changes (
        change_id    INTEGER PRIMARY KEY,
        kind         TEXT NOT NULL CHECK (kind IN ('merge', 'split')),
        source_id    INTEGER NOT NULL REFERENCES accounts,
        target_id    INTEGER NOT NULL REFERENCES accounts,
        member_ids   TEXT NOT NULL,              -- JSON list of the member rows that moved
        holder_id    INTEGER,                    -- the source's holder (member id) before a merge
        target_kind  TEXT NOT NULL,              -- the target's kind before a merge
        source_status TEXT NOT NULL,             -- the source's status before a merge
        points       INTEGER NOT NULL CHECK (typeof(points) = 'integer'),
        note         TEXT NOT NULL,
        done_by      TEXT NOT NULL,
        done_at      TEXT NOT NULL,
        undone_at    TEXT,
        undone_by    TEXT
    );
    CREATE INDEX household_changes_by_account ON household_changes (source_id, target_id);
    -- Devices show a household's kind, member count and (kiosks) address: a pull delta must carry an
    -- account again when they change, as it does for status, PIN and name (V4).
    CREATE TRIGGER accounts_registration_changed AFTER UPDATE OF kind, compound_id, building, unit, room ON accounts
    BEGIN INSERT INTO replica_changes (account_id) VALUES (NEW.account_id); END;
    CREATE TRIGGER members_added AFTER INSERT ON members
    BEGIN INSERT INTO replica_changes (account_id) VALUES (NEW.account_id); END;
    CREATE TRIGGER members_moved AFTER UPDATE OF account_id ON members
    BEGIN
        INSERT INTO replica_changes (account_id) VALUES (OLD.account_id);
        INSERT INTO replica_changes (account_id) VALUES (NEW.account_id);
    END;
    CREATE TRIGGER members_removed AFTER DELETE ON members
    BEGIN INSERT INTO replica_changes (account_id) VALUES (OLD.account_id); END;
"""


V15_NOTHING_LOST = """
    -- How long devices keep the events the office acknowledged (bank.policy.OfflinePolicy), so an
    -- office restored from an older backup gets them again.
    ALTER TABLE offline_policy ADD COLUMN retention_days INTEGER CHECK (retention_days > 0);
    -- Every restore of this store from a backup (python -m office restore), written into the
    -- restored store. ``epoch`` (random) goes into the pull cursor: a device's cursor from before
    -- the restore names entry ids the restored store may hand out again for other entries, so
    -- it must not be taken for a delta base (snapshots fall back to a full pull).
    CREATE TABLE store_restores (
        restore_id       INTEGER PRIMARY KEY,
        restored_at      TEXT NOT NULL,
        epoch            TEXT NOT NULL UNIQUE,
        backup_file      TEXT NOT NULL,
        backup_summary   TEXT NOT NULL,     -- JSON: counts and last times of the copy
        replaced_file    TEXT,              -- where the store it replaced was set aside
        replaced_summary TEXT,              -- JSON, or NULL when the replaced store was unreadable
        restored_by      TEXT NOT NULL
    );
"""


V16_ENROLMENT_V2 = """
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


V17_DISTRICT_USERS = """
    -- The district's own staff (role district) log in to the district view; they are kept in the
    -- directory schema of a district store (bank.district), never in a community's store.
    -- SQLite widens a CHECK by editing the table's stored definition (its documented way for a
    -- change that no row can violate; rebuilding the table would trip the foreign keys of
    -- console_sessions and import_uploads, which cannot be switched off inside a migration's
    -- transaction). RESET reloads this connection's schema; a connection opened before the
    -- upgrade keeps the narrower rule until it reopens. PostgreSQL swaps the constraint
    -- (bank.pg.REWRITES).
    PRAGMA writable_schema = ON;
    UPDATE sqlite_master SET sql = replace(sql, 'CHECK (role IN (''office'', ''council'', ''reviewer'', ''merchant''))',
        'CHECK (role IN (''office'', ''council'', ''reviewer'', ''merchant'', ''district''))')
        WHERE type = 'table' AND name = 'console_users';
    PRAGMA writable_schema = RESET;
"""


MIGRATIONS = [V1_COMMUNITY, V2_CATALOG_MERCHANTS_LEDGER, V3_POLICY, V4_DEVICES_SYNC, V5_COUNCIL_CONSOLE,
              V6_REVIEW_MEMBERS, V7_CONSOLE_REVIEWERS, V8_REQUEST_FRESHNESS, V9_CARRIED_VALIDITY,
              V10_ATTEMPT_LIMITS, V11_SETTLEMENT_CHECKS, V12_KEY_FILES, V13_IMPORT_UPLOADS, V14_REGISTRATION,
              V15_NOTHING_LOST, V16_ENROLMENT_V2, V17_DISTRICT_USERS]


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
