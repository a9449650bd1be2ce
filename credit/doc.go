// Package credit decides which photo reviews earn credits: the credit
// policy, the decision on each review from its photos' predictions, and
// the calibration of the thresholds at which the model is trusted, with a
// guarantee on the accuracy of what it decides alone. It will also hold
// the ledger that stores the decisions.
//
// The rule of the business: a product review earns its credit when a photo
// is a full shot of the product (class product); a style review when a
// photo is a full-length shot of a person wearing it (class full-length).
// Photos of packaging, half-length shots and the like earn nothing. The
// model is trusted only where it is confident; the rest goes to a person.
//
// The package is pure: readers and writers in, values out. It knows
// nothing of S3, SageMaker, files or the command line.
//
// # Policy file
//
// A [Policy] is read from YAML by [ParsePolicy] and written by
// [Policy.WriteYAML]:
//
//	version: "2026-11-28.1"
//	classes: [product, packaging, full-length, half-length, other]
//	review_types:
//	  product: {qualifying: [product], require: any, credit: 500}
//	  style: {qualifying: [full-length], require: any, credit: 1000}
//	thresholds:
//	  product: {grant: 0.95, reject: 0.97}
//	  packaging: {grant: never, reject: 0.9}
//	  full-length: {grant: 0.95, reject: 0.97}
//	  half-length: {grant: never, reject: 0.9}
//	  other: {grant: never, reject: never}
//	certificate: {...}
//
// version names the policy and is recorded with every decision. classes
// is the model's class map in index order; [Policy.CheckClasses] refuses a
// model whose class map differs. Each review type names the classes that
// qualify for it, whether any photo or all of them must qualify, and the
// credit it earns. thresholds holds, per class, the confidence at or above
// which a photo is decided without a person: grant when its class
// qualifies for the review's type, reject when it does not. never means
// always a person; a class left out is never on both. certificate, written
// by calibration, says what the thresholds guarantee; it is kept as read
// and written back.
//
// Errors are [*PolicyError] and name the line, the key path and what was
// expected:
//
//	line 12: thresholds.product.grant: 1.5, want a number in [0, 1] or never
//
// [DefaultPolicy] is the rule of the business with every threshold never:
// nothing is decided automatically until the thresholds are calibrated.
//
// # Decisions
//
// [Policy.Decide] turns a [Review] (its type and its photos' predictions)
// into a [Decision]: [Grant] (with the rule's credit), [Reject] or
// [Manual], with one reason per photo (photo N is the photo with
// image_index N) and a conclusion a person can read:
//
//	photo 0: half-length 0.62 < 0.90 (reject threshold): uncertain
//	photo 1: full-length 0.97 ≥ 0.95 (grant threshold): qualifies
//	any qualifying photo earns the credit: grant
//
// A photo without a prediction (missing or invalid) sends its review to a
// person whatever the other photos show, and so does a review without
// photos. A review type with no rule is an error wrapping [ErrNoRule].
//
// # Calibration
//
// Thresholds are chosen from labelled photos (photos of the validation
// split, with their predictions) so that what the model decides alone is
// right at least a target share of the time, and this is guaranteed with
// a stated probability over the draw of those photos. The automatic
// decisions fall into families (the grants, the rejects) that are
// calibrated separately; for each, [Select] walks down the thresholds while
// the Clopper–Pearson upper bound on the family's error ([UpperBound]) stays
// within the target, and keeps the lowest threshold that it certifies. A
// family that cannot be certified (too few photos, too many errors)
// decides nothing automatically. [Policy.WithThresholds] puts the thresholds
// into the policy, with a certificate that says what they guarantee.
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
