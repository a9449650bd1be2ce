package credit

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// auditSeed starts the text every audit draw hashes. It is fixed, so that
// a day decided again draws the same audits; changing it would draw
// another sample.
const auditSeed = "reviewlens audit v1"

// AuditDraw is the review's draw for the audit sample: a number in [0, 1)
// from the SHA-256 of "reviewlens audit v1|day|review_id" (its first 53
// bits over 2^53). It is the same on every run, and it depends on nothing
// but the day and the review's id, so it is independent of the photos and
// of what the model saw in them: the reviews it picks are a random sample
// of those decided.
func AuditDraw(day, reviewID string) float64 {
	sum := sha256.Sum256([]byte(auditSeed + "|" + day + "|" + reviewID))
	return float64(binary.BigEndian.Uint64(sum[:8])>>11) / (1 << 53)
}

// Audited reports whether the audit sample at rate picks the review of day
// reviewID: AuditDraw(day, reviewID) < rate. About rate of the reviews are
// picked, each independently; none at a rate of 0 or less.
func Audited(day, reviewID string, rate float64) bool {
	return rate > 0 && AuditDraw(day, reviewID) < rate
}

// Audit returns d as the audit sample at rate has it. A review the policy
// decided alone (Grant or Reject) that Audited picks goes to a person
// instead: Decision becomes Manual and Credit 0, Audit is set and
// AutoDecision keeps what the policy decided, and a last reason says so.
// Any other decision is returned as it is. The person's decision is the
// one that counts; compared with AutoDecision, it measures the accuracy of
// the automatic decisions on a random sample of them.
func Audit(d Decision, day string, rate float64) Decision {
	if d.Audit || (d.Decision != Grant && d.Decision != Reject) || !Audited(day, d.ReviewID, rate) {
		return d
	}
	a := d
	a.Reasons = append(slices.Clone(d.Reasons), fmt.Sprintf(
		"audit: a random %s of the automatic decisions goes to a person, who decides as for any other review (the policy decided %s): %s",
		formatShare(rate), d.Decision, Manual))
	a.Audit, a.AutoDecision, a.Decision, a.Credit = true, d.Decision, Manual, 0
	return a
}

// GrantCredit is the credit a grant of a review of type reviewType earns,
// whoever grants it (DecisionRow.GrantCredit): its rule's credit, or -1
// when the policy has no rule for the type.
func (p *Policy) GrantCredit(reviewType string) int64 {
	if r, ok := p.ReviewTypes[reviewType]; ok {
		return r.Credit
	}
	return -1
}

// formatShare writes a share as a percentage with no more digits than it
// has: 0.02 is "2%", 0.005 "0.5%".
func formatShare(x float64) string {
	return strconv.FormatFloat(x*100, 'g', 4, 64) + "%"
}

// How the photos of a calibration set were chosen.
const (
	// SampleRandom photos are a random sample of the reviews the policy
	// decides alone: the audits. What is measured on them holds for the
	// automatic decisions.
	SampleRandom = "random"
	// SampleQueue photos are the ones the policy sent to a person because
	// it was unsure of them: the hard cases. Good to train on, but a
	// calibration on them describes the hard cases, not the decisions.
	SampleQueue = "queue"
	// SampleUnknown photos were chosen in a way nobody vouched for: the
	// manifest step's --sample unknown, say a labelling job of hand-picked
	// hard photos.
	SampleUnknown = "unknown"
)

// ErrNotRandomSample is returned (wrapped) by CheckCalibrationSample.
var ErrNotRandomSample = errors.New("the calibration set is not a random sample of the reviews decided")

// CheckCalibrationSample refuses to calibrate on photos that are not
// flagged as a random sample (sample is SampleRandom), unless allowBiased
// says the caller knows. A guarantee computed on a calibration set holds
// for photos drawn like it: photos chosen because the model was unsure
// (SampleQueue) are harder than the ones it decides, and a set of unknown
// origin ("") may be anything. The error wraps ErrNotRandomSample and says
// what to do.
func CheckCalibrationSample(sample string, allowBiased bool) error {
	if sample == SampleRandom || allowBiased {
		return nil
	}
	var why string
	switch sample {
	case SampleQueue:
		why = "its photos are those of the inspection queue, which the model was unsure of: thresholds calibrated on them would not describe the photos it decides"
	case "", SampleUnknown:
		why = "nothing says how its photos were chosen"
	default:
		why = fmt.Sprintf("its sample is %q, want %q", sample, SampleRandom)
	}
	return fmt.Errorf("%w: %s; calibrate on the audits (a random sample of the automatic decisions), or accept a biased set knowingly", ErrNotRandomSample, why)
}

// A SampleMarker says how the photos of a calibration set (a labels
// table) were chosen. It is a JSON file beside the table, named by
// SampleMarkerFor: the labels step writes one with its calibration set of
// audits.
type SampleMarker struct {
	Sample string `json:"sample"`           // SampleRandom, SampleQueue or SampleUnknown
	Source string `json:"source,omitempty"` // what the photos are, for people
	Photos int    `json:"photos"`
	Why    string `json:"why,omitempty"`
}

// SampleMarkerFor is where the SampleMarker of the labels table at uri
// is: the same name with .sample.json for .parquet
// (calibration.parquet → calibration.sample.json).
func SampleMarkerFor(uri string) string {
	return strings.TrimSuffix(uri, ".parquet") + ".sample.json"
}

// ReadSampleMarker reads a SampleMarker.
func ReadSampleMarker(r io.Reader) (SampleMarker, error) {
	var m SampleMarker
	dec := json.NewDecoder(r)
	if err := dec.Decode(&m); err != nil {
		return SampleMarker{}, fmt.Errorf("read sample marker: %w", err)
	}
	if m.Sample == "" {
		return SampleMarker{}, fmt.Errorf("read sample marker: no sample, want %q or %q", SampleRandom, SampleQueue)
	}
	return m, nil
}
