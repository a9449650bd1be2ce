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

ALTER TABLE decisions
	ADD COLUMN auto_decision TEXT,
	ADD COLUMN grant_credit BIGINT,
	ADD CONSTRAINT decisions_auto_decision_check
		CHECK (auto_decision IS NULL OR auto_decision IN ('grant', 'reject') AND decision = 'manual'),
	ADD CONSTRAINT decisions_grant_credit_check
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

-- inspections is kept and widened: PostgreSQL alters a table in place.
UPDATE inspections SET outcome = NULL WHERE outcome NOT IN ('grant', 'reject');
ALTER TABLE inspections
	ADD COLUMN credit BIGINT NOT NULL DEFAULT 0,
	ADD COLUMN decided_at TEXT, -- when the person decided, as the answers say (UTC)
	ADD COLUMN source TEXT,     -- the answers file
	ADD CONSTRAINT inspections_outcome_check CHECK (outcome IN ('grant', 'reject')),
	ADD CONSTRAINT inspections_credit_check CHECK (credit >= 0 AND (credit = 0 OR outcome = 'grant')),
	ADD CONSTRAINT inspections_review_id_fkey FOREIGN KEY (review_id) REFERENCES decisions (review_id);
CREATE INDEX inspections_closed ON inspections (closed_at);

CREATE FUNCTION ledger_inspection_of_manual() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM decisions d WHERE d.review_id = NEW.review_id AND d.decision = 'manual') THEN
		RAISE EXCEPTION 'inspections: review % is not a manual decision: a person closes manual decisions only', NEW.review_id
			USING ERRCODE = 'check_violation';
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER inspections_of_manual BEFORE INSERT OR UPDATE OF review_id ON inspections
	FOR EACH ROW EXECUTE FUNCTION ledger_inspection_of_manual();
CREATE FUNCTION ledger_decision_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.decision <> OLD.decision AND EXISTS (SELECT 1 FROM inspections i WHERE i.review_id = OLD.review_id) THEN
		RAISE EXCEPTION 'decisions: review % was closed by a person and keeps its manual decision', OLD.review_id
			USING ERRCODE = 'check_violation';
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER decisions_kept BEFORE UPDATE OF decision ON decisions
	FOR EACH ROW EXECUTE FUNCTION ledger_decision_kept();

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
	CAST('policy' AS TEXT) AS granted_by, CAST(NULL AS TEXT) AS inspector
FROM decisions d JOIN publications p ON p.id = d.publication
WHERE d.decision = 'grant'
UNION ALL
SELECT d.review_id, d.day, i.credit, p.policy_version, i.closed_at AS granted_at,
	CAST('inspector' AS TEXT) AS granted_by, i.inspector
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
