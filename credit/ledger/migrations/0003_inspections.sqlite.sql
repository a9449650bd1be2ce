-- 0003: people close the loop.
--
-- An inspector's answer closes a manual decision of the queue: a row of
-- inspections (what the person decided, the credit a grant pays, who and
-- when), with the classes the person gave the review's photos in
-- inspection_photos. A person's grant is a grant like the policy's, in the
-- same grants view, and a review is granted at most once, ever, by the
-- database itself: a review has one decision (the primary key of
-- decisions) and at most one inspection (the primary key of inspections);
-- only a manual decision can be inspected (the trigger
-- inspections_of_manual), and a decision once inspected cannot change
-- (decisions_kept); grants lists the automatic grants (decision grant)
-- and the inspectors' grants of manual decisions, which no review can
-- both have.
--
-- The audit sample: a manual decision with an auto_decision is an audit,
-- the decision the policy would have taken kept beside it. grant_credit is
-- what a grant of the review pays, whoever grants it.
--
-- Answers that were not applied are recorded in answer_conflicts.

ALTER TABLE decisions ADD COLUMN auto_decision TEXT
	CHECK (auto_decision IS NULL OR auto_decision IN ('grant', 'reject') AND decision = 'manual');
ALTER TABLE decisions ADD COLUMN grant_credit BIGINT
	CHECK (grant_credit >= 0 AND (decision <> 'grant' OR grant_credit = credit));

-- What a grant pays: a grant's credit; for a manual decision published
-- before, the credit of the grants of its review type under its policy,
-- when they all agree (else null: a person's grant of it is a conflict).
UPDATE decisions SET grant_credit = credit WHERE decision = 'grant';
CREATE TABLE migration_0003 AS
SELECT d.review_type, p.policy_version, MIN(d.credit) AS credit
FROM decisions d JOIN publications p ON p.id = d.publication
WHERE d.decision = 'grant'
GROUP BY d.review_type, p.policy_version
HAVING MIN(d.credit) = MAX(d.credit);
UPDATE decisions SET grant_credit = m.credit
FROM publications p, migration_0003 m
WHERE decisions.decision = 'manual' AND p.id = decisions.publication
	AND m.review_type = decisions.review_type AND m.policy_version = p.policy_version;
DROP TABLE migration_0003;

-- The audits, for monitoring: a small part of decisions.
CREATE INDEX decisions_audit ON decisions (day) WHERE auto_decision IS NOT NULL;

DROP VIEW inspection_queue;
DROP VIEW grants;

CREATE TABLE inspections_v3 (
	review_id  TEXT   NOT NULL PRIMARY KEY REFERENCES decisions (review_id),
	outcome    TEXT   CHECK (outcome IN ('grant', 'reject')), -- null: closed before 0003, not recorded
	credit     BIGINT NOT NULL DEFAULT 0 CHECK (credit >= 0 AND (credit = 0 OR outcome = 'grant')),
	inspector  TEXT,
	decided_at TEXT,          -- when the person decided, as the answers say (UTC)
	closed_at  TEXT   NOT NULL, -- when the ledger recorded it
	source     TEXT           -- the answers file
);
INSERT INTO inspections_v3 (review_id, outcome, inspector, closed_at)
SELECT i.review_id, CASE WHEN i.outcome IN ('grant', 'reject') THEN i.outcome END, i.inspector, i.closed_at
FROM inspections i JOIN decisions d ON d.review_id = i.review_id
WHERE d.decision = 'manual';
DROP TABLE inspections;
ALTER TABLE inspections_v3 RENAME TO inspections;
CREATE INDEX inspections_closed ON inspections (closed_at);

CREATE TRIGGER inspections_of_manual BEFORE INSERT ON inspections
WHEN NOT EXISTS (SELECT 1 FROM decisions d WHERE d.review_id = NEW.review_id AND d.decision = 'manual')
BEGIN
	SELECT RAISE(ABORT, 'inspections: the review is not a manual decision: a person closes manual decisions only');
END;
CREATE TRIGGER inspections_of_manual_update BEFORE UPDATE OF review_id ON inspections
WHEN NOT EXISTS (SELECT 1 FROM decisions d WHERE d.review_id = NEW.review_id AND d.decision = 'manual')
BEGIN
	SELECT RAISE(ABORT, 'inspections: the review is not a manual decision: a person closes manual decisions only');
END;
CREATE TRIGGER decisions_kept BEFORE UPDATE OF decision ON decisions
WHEN NEW.decision <> OLD.decision AND EXISTS (SELECT 1 FROM inspections i WHERE i.review_id = OLD.review_id)
BEGIN
	SELECT RAISE(ABORT, 'decisions: a review a person closed keeps its manual decision');
END;

-- The classes a person gave the photos of a review, for training.
CREATE TABLE inspection_photos (
	review_id   TEXT    NOT NULL REFERENCES inspections (review_id),
	image_index BIGINT  NOT NULL CHECK (image_index >= 0),
	image_uri   TEXT    NOT NULL,
	class_name  TEXT    NOT NULL,
	PRIMARY KEY (review_id, image_index)
);

-- Answers not applied, each recorded once: the review is unknown, was
-- decided automatically, or was closed with another answer.
CREATE TABLE answer_conflicts (
	review_id   TEXT NOT NULL,
	outcome     TEXT NOT NULL,
	inspector   TEXT NOT NULL,
	decided_at  TEXT NOT NULL,
	ledger      TEXT NOT NULL, -- the review in the ledger: unknown, grant, reject, manual or closed: OUTCOME
	detail      TEXT NOT NULL,
	source      TEXT,
	recorded_at TEXT NOT NULL,
	UNIQUE (review_id, outcome, inspector, decided_at, detail)
);

-- grants are the credits granted, one a review: by the policy, or by a
-- person who closed a manual decision with a grant.
CREATE VIEW grants AS
SELECT d.review_id, d.day, d.credit, p.policy_version, p.published_at AS granted_at,
	'policy' AS granted_by, NULL AS inspector
FROM decisions d JOIN publications p ON p.id = d.publication
WHERE d.decision = 'grant'
UNION ALL
SELECT d.review_id, d.day, i.credit, p.policy_version, i.closed_at AS granted_at,
	'inspector' AS granted_by, i.inspector
FROM inspections i JOIN decisions d ON d.review_id = i.review_id JOIN publications p ON p.id = d.publication
WHERE i.outcome = 'grant' AND d.decision = 'manual';

-- inspection_queue is the open queue: manual decisions no inspection has
-- closed. An audit is shown blind: no prediction, no reasons, so that the
-- person's answer measures the model instead of agreeing with it.
CREATE VIEW inspection_queue AS
SELECT d.review_id, d.day, d.review_type,
	CASE WHEN d.auto_decision IS NULL THEN d.classes ELSE '[]' END AS classes,
	CASE WHEN d.auto_decision IS NULL THEN d.confidences ELSE '[]' END AS confidences,
	CASE WHEN d.auto_decision IS NULL THEN d.reasons
		ELSE '["audit: a random check of the automatic decisions, shown without the model''s view: decide it as any other review"]' END AS reasons,
	p.published_at AS queued_at,
	d.auto_decision IS NOT NULL AS audit
FROM decisions d JOIN publications p ON p.id = d.publication
WHERE d.decision = 'manual'
	AND NOT EXISTS (SELECT 1 FROM inspections i WHERE i.review_id = d.review_id);
