-- 0002: every decision stored once. A publish's policy, model, transform
-- job and time move to publications, one row per publish and (policy,
-- model, transform job). The grants and the inspection queue become views
-- of decisions: a review's one grant, ever, is a unique index on the
-- review's grant decisions, and a manual decision is queued until an
-- inspection closes it. Nothing is written twice, so a day publishes
-- with COPY straight into decisions.

CREATE TABLE publications (
	id             BIGINT NOT NULL PRIMARY KEY,
	day            TEXT   NOT NULL,
	policy_version TEXT   NOT NULL,
	model          TEXT,
	transform_job  TEXT,
	published_at   TEXT   NOT NULL,
	decisions      BIGINT NOT NULL -- the decisions it stored
);
INSERT INTO publications (id, day, policy_version, model, transform_job, published_at, decisions)
SELECT ROW_NUMBER() OVER (ORDER BY published_at, day, policy_version, model, transform_job),
	day, policy_version, model, transform_job, published_at, n
FROM (SELECT day, policy_version, model, transform_job, published_at, COUNT(*) AS n
	FROM decisions GROUP BY day, policy_version, model, transform_job, published_at) AS g;

-- decisions holds every published decision, one per day and review. The
-- key leads with the day, so a day's rows, sorted by review, append to
-- the index.
CREATE TABLE decisions_v2 (
	day         TEXT COLLATE "C" NOT NULL,
	review_id   TEXT COLLATE "C" NOT NULL,
	review_type TEXT   NOT NULL,
	decision    TEXT   NOT NULL CHECK (decision IN ('grant', 'reject', 'manual')),
	credit      BIGINT NOT NULL,
	publication BIGINT NOT NULL, -- publications.id
	classes     TEXT   NOT NULL, -- JSON array of strings, null for no prediction
	confidences TEXT   NOT NULL, -- JSON array of numbers, null for no prediction
	reasons     TEXT   NOT NULL, -- JSON array of strings, the conclusion last
	CONSTRAINT decisions_key PRIMARY KEY (day, review_id)
);
INSERT INTO decisions_v2 (day, review_id, review_type, decision, credit, publication, classes, confidences, reasons)
SELECT d.day, d.review_id, d.review_type, d.decision, d.credit, p.id, d.classes, d.confidences, d.reasons
FROM decisions d JOIN publications p ON p.day = d.day AND p.policy_version = d.policy_version
	AND p.model IS NOT DISTINCT FROM d.model AND p.transform_job IS NOT DISTINCT FROM d.transform_job
	AND p.published_at = d.published_at;

-- inspections closes items of the inspection queue: a person decided.
CREATE TABLE inspections (
	review_id TEXT NOT NULL,
	day       TEXT NOT NULL,
	closed_at TEXT NOT NULL,
	outcome   TEXT, -- what the person decided
	inspector TEXT,
	PRIMARY KEY (day, review_id)
);
INSERT INTO inspections (review_id, day, closed_at)
SELECT review_id, day, closed_at FROM inspection_queue WHERE closed_at IS NOT NULL;

DROP TABLE inspection_queue;
DROP TABLE grants;
DROP TABLE decisions;
ALTER TABLE decisions_v2 RENAME TO decisions;
ALTER INDEX decisions_key RENAME TO decisions_pkey;

-- A review has at most one grant, ever: the database refuses a second.
CREATE UNIQUE INDEX decisions_one_grant ON decisions (review_id) WHERE decision = 'grant';
-- The open inspection queue is read by this one.
CREATE INDEX decisions_manual ON decisions (day) WHERE decision = 'manual';

-- grants are the credits granted, one a review.
CREATE VIEW grants AS
SELECT d.review_id, d.day, d.credit, p.policy_version, p.published_at AS granted_at
FROM decisions d JOIN publications p ON p.id = d.publication
WHERE d.decision = 'grant';

-- inspection_queue is the open queue: manual decisions no inspection has
-- closed, with what an inspector needs; reason is the last of reasons.
CREATE VIEW inspection_queue AS
SELECT d.review_id, d.day, d.review_type, d.classes, d.confidences, d.reasons, p.published_at AS queued_at
FROM decisions d JOIN publications p ON p.id = d.publication
WHERE d.decision = 'manual'
	AND NOT EXISTS (SELECT 1 FROM inspections i WHERE i.day = d.day AND i.review_id = d.review_id);
