-- 0002: a review is decided once. Each decision is stored once, keyed by
-- its review: a decision on a review already in the ledger, from any day,
-- is a conflict for a person, so a review is granted at most once, ever,
-- by the primary key. A publish's policy, model, transform job and time
-- move to publications, one row per publish and (policy, model, transform
-- job). The grants and the inspection queue become views of decisions.
-- Nothing is written twice, so a new day loads with COPY straight into
-- decisions.

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

CREATE TABLE decisions_v2 (
	review_id   TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	day         TEXT   NOT NULL,
	review_type TEXT   NOT NULL,
	decision    TEXT   NOT NULL CHECK (decision IN ('grant', 'reject', 'manual')),
	credit      BIGINT NOT NULL,
	publication BIGINT NOT NULL, -- publications.id
	classes     TEXT   NOT NULL, -- JSON array of strings, null for no prediction
	confidences TEXT   NOT NULL, -- JSON array of numbers, null for no prediction
	reasons     TEXT   NOT NULL  -- JSON array of strings, the conclusion last
);
-- Schema 1 kept a review's decisions of several days. The one kept is its
-- grant, else its first; the others become conflicts.
CREATE TABLE migration_0002 AS
SELECT d.review_id, d.day, d.review_type, d.decision, d.credit, p.id AS publication, d.classes, d.confidences,
	d.reasons, ROW_NUMBER() OVER (PARTITION BY d.review_id ORDER BY CASE WHEN d.decision = 'grant' THEN 0 ELSE 1 END, d.day) AS n
FROM decisions d JOIN publications p ON p.day = d.day AND p.policy_version = d.policy_version
	AND p.model IS NOT DISTINCT FROM d.model AND p.transform_job IS NOT DISTINCT FROM d.transform_job
	AND p.published_at = d.published_at;
INSERT INTO decisions_v2 (review_id, day, review_type, decision, credit, publication, classes, confidences, reasons)
SELECT review_id, day, review_type, decision, credit, publication, classes, confidences, reasons
FROM migration_0002 WHERE n = 1;
INSERT INTO conflicts (review_id, day, previous_decision, new_decision, detail, recorded_at)
SELECT m.review_id, m.day, k.decision, m.decision, 'already decided on ' || k.day || ' (kept by migration 0002)', p.published_at
FROM migration_0002 m JOIN migration_0002 k ON k.review_id = m.review_id AND k.n = 1
JOIN publications p ON p.id = m.publication
WHERE m.n > 1
ON CONFLICT (review_id, day, previous_decision, new_decision, detail) DO NOTHING;
DROP TABLE migration_0002;

-- inspections closes items of the inspection queue: a person decided.
CREATE TABLE inspections (
	review_id TEXT NOT NULL PRIMARY KEY,
	closed_at TEXT NOT NULL,
	outcome   TEXT, -- what the person decided
	inspector TEXT
);
INSERT INTO inspections (review_id, closed_at)
SELECT q.review_id, q.closed_at FROM inspection_queue q JOIN decisions_v2 d ON d.review_id = q.review_id AND d.day = q.day
WHERE q.closed_at IS NOT NULL;

DROP TABLE inspection_queue;
DROP TABLE grants;
DROP TABLE decisions;
ALTER TABLE decisions_v2 RENAME TO decisions;
ALTER INDEX decisions_v2_pkey RENAME TO decisions_pkey;

-- A day's decisions. A BRIN index: days are loaded in order, so it is
-- small and costs a load next to nothing, where a B-tree of a million
-- equal keys costs a second.
CREATE INDEX decisions_day ON decisions USING brin (day) WITH (autosummarize = on);
-- The open inspection queue is read by this one.
CREATE INDEX decisions_manual ON decisions (review_id) WHERE decision = 'manual';

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
	AND NOT EXISTS (SELECT 1 FROM inspections i WHERE i.review_id = d.review_id);
