-- The credit ledger. Portable SQL: the same text runs on SQLite and
-- PostgreSQL. Times are UTC text in a fixed-width format, so they sort.

-- decisions holds every published decision, one per review and day.
CREATE TABLE decisions (
	review_id      TEXT   NOT NULL,
	day            TEXT   NOT NULL,
	review_type    TEXT   NOT NULL,
	decision       TEXT   NOT NULL CHECK (decision IN ('grant', 'reject', 'manual')),
	credit         BIGINT NOT NULL,
	policy_version TEXT   NOT NULL,
	model          TEXT,
	transform_job  TEXT,
	classes        TEXT   NOT NULL, -- JSON array of strings, null for no prediction
	confidences    TEXT   NOT NULL, -- JSON array of numbers, null for no prediction
	reasons        TEXT   NOT NULL, -- JSON array of strings
	published_at   TEXT   NOT NULL,
	PRIMARY KEY (review_id, day)
);
CREATE INDEX decisions_day ON decisions (day);

-- grants holds the credits granted: a review has at most one grant, ever.
CREATE TABLE grants (
	review_id      TEXT   NOT NULL PRIMARY KEY,
	day            TEXT   NOT NULL,
	credit         BIGINT NOT NULL,
	policy_version TEXT   NOT NULL,
	granted_at     TEXT   NOT NULL,
	FOREIGN KEY (review_id, day) REFERENCES decisions (review_id, day)
);

-- conflicts holds the decisions that were published but not applied: a
-- day's decision that changed, or a decision on a review already granted.
CREATE TABLE conflicts (
	review_id         TEXT NOT NULL,
	day               TEXT NOT NULL,
	previous_decision TEXT NOT NULL,
	new_decision      TEXT NOT NULL,
	detail            TEXT NOT NULL,
	recorded_at       TEXT NOT NULL,
	UNIQUE (review_id, day, previous_decision, new_decision, detail)
);

-- inspection_queue holds the reviews a person must decide; closed_at is
-- null while the item is open.
CREATE TABLE inspection_queue (
	review_id   TEXT NOT NULL,
	day         TEXT NOT NULL,
	review_type TEXT NOT NULL,
	reason      TEXT NOT NULL,
	classes     TEXT NOT NULL,
	confidences TEXT NOT NULL,
	reasons     TEXT NOT NULL,
	queued_at   TEXT NOT NULL,
	closed_at   TEXT,
	PRIMARY KEY (review_id, day)
);
CREATE INDEX inspection_queue_open ON inspection_queue (queued_at) WHERE closed_at IS NULL;
