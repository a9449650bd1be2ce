// Package credit decides which photo reviews earn credits: the credit
// policy, the decision on each review from its photos' predictions, and
// the calibration of the thresholds at which the model is trusted, with a
// guarantee on the accuracy of what it decides alone. It also holds the
// decisions table, and (package ledger) the ledger that stores them.
//
// The rule of the business: a product review earns its credit when a photo
// is a full shot of the product (class product); a style review when a
// photo is a full-length shot of a person wearing it (class full-length).
// Photos of packaging, half-length shots and the like earn nothing. The
// model is trusted only where it is sure of that answer; the rest goes to
// a person.
//
// # The steps
//
// Two functions are the calibrate and credit steps, options in (the
// steps' flags) and the result out, reading and writing through a
// storage.Storage (local folders, S3, or buckets a program opened):
//
//	cal, err := credit.CalibratePolicy(ctx, store, credit.CalibratePolicyOptions{
//		CalibrationSetOptions: credit.CalibrationSetOptions{Predictions: "s3://b/calibration/predictions/", Labels: "s3://b/labels/"},
//		Calibrate:             credit.CalibrateOptions{TargetAccuracy: 0.98, Delta: 0.05},
//		Out:                   "s3://b/policy/policy.yaml",
//	})
//	day, err := credit.DecideDay(ctx, store, credit.DayOptions{
//		Predictions: "s3://b/predictions/dt=2026-11-28/", Reviews: "s3://b/reviews/dt=2026-11-28.parquet",
//		Policy: cal.Policy, Out: "s3://b/decisions/dt=2026-11-28/",
//	})
//
// Below them the package is pure: readers and writers in, values out
// (Calibrate, Policy.Decide, the tables). It knows nothing of SageMaker or
// the command line; package ledger stores the decisions.
//
// # Decision scores
//
// The decision is whether a photo qualifies for its review's type, not
// which class it shows: a photo the model sees as 50% packaging and 48%
// half-length is a sure reject for a product review, though the model is
// sure of no class. So a photo's decision score, for a review of type T,
// is P(qualifies) = the sum of the model's probabilities of T's qualifying
// classes: the score of a grant, and 1 − P(qualifies) the score of a
// reject. This needs each photo's full probability vector, in the
// policy's class order ([Photo.Probabilities], [Labelled.Probabilities]),
// which the predictions table holds.
//
// # Policy file
//
// A [Policy] is read from YAML by [ParsePolicy] and written by
// [Policy.WriteYAML] (examples/policy.yaml is a commented one):
//
//	schema: 2
//	version: "2026-12-04.1"
//	classes: [product, packaging, full-length, half-length, other]
//	review_types:
//	  product: {qualifying: [product], require: any, credit: 500}
//	  style: {qualifying: [full-length], require: any, credit: 1000}
//	guarantee: per-decision
//	thresholds:
//	  product: {grant: 0.93, reject: 0.97}
//	  style: {grant: 0.93, reject: 0.97}
//	certificate: {...}
//
// version names the policy and is recorded with every decision. classes
// is the model's class map in index order; [Policy.CheckClasses] refuses a
// model whose class map differs. Each review type names the classes that
// qualify for it, whether any photo or all of them must qualify, and the
// credit it earns. guarantee says which automatic decisions calibrate
// bounded together (see Calibration). thresholds holds, per review type,
// the decision scores at or above which a photo is decided without a
// person: it surely qualifies when P(qualifies) reaches grant, surely does
// not when 1 − P(qualifies) reaches reject. Thresholds are above 0.5, so
// that no photo is both; never means always a person; a review type left
// out is never on both. certificate, written by calibration, says what
// the thresholds guarantee; it is kept as read and written back, and
// [Policy.ReadCertificate] reads it.
//
// Files written before decision scores have no schema key: schema 1,
// whose thresholds are per class, on the confidence of the photo's top
// class (grant when that class qualifies, reject when it does not). They
// are still read, written back as they were, and decided the old way.
//
// Errors are [*PolicyError] and name the line, the key path and what was
// expected:
//
//	line 12: thresholds.product.grant: 1.5, want a number above 0.5 and at most 1, or never (...)
//
// [DefaultPolicy] is the rule of the business with every threshold never:
// nothing is decided automatically until the thresholds are calibrated.
// [DefaultPolicyFor] makes it for a model's classes (classes.json), and
// says, with a policy to start from, when they lack product or
// full-length.
//
// # Decisions
//
// [Policy.Decide] turns a [Review] (its type and its photos' predictions)
// into a [Decision]: [Grant] (with the rule's credit), [Reject] or
// [Manual], with one reason per photo (photo N is the photo with
// image_index N) and a conclusion a person can read:
//
//	photo 0: P(qualifies for style) 0.30, P(does not) 0.70 (0.70 < 0.97 reject threshold): uncertain
//	photo 1: P(qualifies for style) 0.97 ≥ 0.93 (grant threshold): qualifies
//	any qualifying photo earns the credit: grant
//
// Under require any, a review is granted when some photo surely
// qualifies, rejected when every photo surely does not; under require all,
// the mirror. A photo without a usable prediction (missing, invalid, or
// without a probability per class) sends its review to a person whatever
// the other photos show, and so does a review without photos. A review
// type with no rule is an error wrapping [ErrNoRule].
//
// # Calibration
//
// Thresholds are chosen from labelled photos (photos of the validation
// split, with their predictions) so that what the model decides alone is
// right at least a target share of the time, and this is guaranteed with
// a stated probability over the draw of those photos. [Calibrate] scores
// every photo for every review type; the candidate decisions fall into
// the families of the guarantee asked for: per-decision (the default:
// the grants, and the rejects, review types pooled, each at delta/2),
// overall (every automatic decision, one family at delta) or
// per-review-type (grants and rejects of each type), with a target per
// decision if asked. For each family, [Select] walks down the thresholds
// while the Clopper–Pearson upper bound on the family's error
// ([UpperBound]) stays within the target, and keeps the lowest threshold
// that it certifies. A family that cannot be certified (too few photos,
// too many errors) decides nothing automatically, and its [MoreData] says
// how many more labelled photos like these would certify it, and at
// roughly what coverage. The calibrated policy carries a certificate that
// says what its thresholds guarantee.
//
// Package credittest simulates a world with a known answer (a perfectly
// calibrated model) to test and measure all of this; bench/calibworld
// runs it end to end.
//
// # Audits and live accuracy
//
// A calibration guarantees accuracy on photos like the calibration set;
// when the photos change, only fresh labels tell. The policy's audit_rate
// sends that share of the reviews it would decide alone to a person
// instead ([Audit]): the choice is a hash of the day and the review
// ([AuditDraw]), the same on every run and blind to the photos, so the
// audits are a random sample of the automatic decisions, and the
// decision the policy would have taken is kept beside the person's.
// [LiveAccuracy] turns the closed audits into the accuracy of each ISO
// week's grants and rejects, with its Clopper–Pearson interval
// ([LowerBound], [UpperBound]), and alarms, with a sequential test that
// holds however often it is looked at, when a week's decisions are less
// accurate than their target; [AuditsToDetect] says how many audits a
// drop takes to show. Only audits are a random sample of what the model
// decides: the inspection queue holds the photos it was unsure of, good to
// train on, biased for calibration ([CheckCalibrationSample]).
package credit
