package credit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/reviewlens/reviewlens/fault"
	"github.com/reviewlens/reviewlens/inspect"
	"github.com/reviewlens/reviewlens/internal/clip"
	"github.com/reviewlens/reviewlens/internal/creditreport"
	"github.com/reviewlens/reviewlens/storage"
)

// The credit step's files in its output folder.
const (
	FileDecisions = "decisions.parquet"
	FileRejected  = "rejected.jsonl" // rows of the reviews file that name no review
	FileSummary   = "summary.json"
)

// DayOptions are the credit step's inputs: its flags.
type DayOptions struct {
	// Predictions is the predictions step's predictions.parquet, or its
	// folder; Reviews the day's reviews (Parquet or CSV: every photo of
	// every review); Policy the calibrated policy (YAML).
	Predictions, Reviews, Policy string
	// Out is the output folder: decisions.parquet, rejected.jsonl when
	// some rows name no review, and summary.json, last.
	Out string
	// Report, when set, is where the HTML report goes.
	Report string
	// OnBadRow says what to do with a row of the reviews file that names
	// no review (no usable review_id): "fail" (the default) or "skip" (to
	// rejected.jsonl). A bad row that names its review sends that review to
	// a person either way.
	OnBadRow string
	// AllowEmpty accepts a reviews file with no rows (a day with no
	// reviews); without it, that is bad input.
	AllowEmpty bool
	Logger     *slog.Logger
}

// DayResult is the credit step's result, also written to summary.json.
type DayResult struct {
	Decisions      string         `json:"decisions"`
	Report         string         `json:"report,omitempty"`
	Day            string         `json:"day"`
	PolicyVersion  string         `json:"policy_version"`
	Reviews        int            `json:"reviews"`
	ByDecision     map[string]int `json:"by_decision"`
	AutomationRate float64        `json:"automation_rate"`
	CreditsGranted int64          `json:"credits_granted"`
	ManualReasons  map[string]int `json:"manual_reasons"`
	// BadRows counts rows of the reviews file that could not be used;
	// the reviews they name went to a person.
	BadRows int `json:"bad_rows"`
	// Rejected counts bad rows that name no review (OnBadRow "skip"),
	// written to rejected.jsonl.
	Rejected    int    `json:"rejected"`
	RejectedURI string `json:"rejected_uri,omitempty"`
	// Mismatched counts photos whose prediction is of another photo than
	// the review's (the reviews file and the staged photos disagree):
	// their reviews went to a person.
	Mismatched int `json:"mismatched_photos"`
	// Audits counts the reviews the policy decided alone that the audit
	// sample (the policy's audit_rate) sent to a person: counted as manual.
	Audits int `json:"audits"`
	// CertifiedCoverage is the share of the calibration set's decisions
	// the policy's certified families decide automatically, beside the
	// day's AutomationRate (0 without a certificate).
	CertifiedCoverage float64 `json:"certified_coverage"`
	ElapsedSeconds    float64 `json:"elapsed_seconds"`
}

// statusMismatch marks a photo whose prediction is of another photo.
const statusMismatch = "mismatch"

// DecideDay is the credit step: it decides every review of the day's
// reviews from its photos' predictions and the policy — grant (with the
// rule's credit), reject, or manual (a person looks) — and writes
// decisions.parquet (one row a review: the decision, the credit, each
// photo's class and confidence, the reasons line by line) and summary.json
// into opts.Out, and an HTML report to opts.Report.
//
// A prediction counts only for the photo it was made on: a review whose
// row names another photo than the one staged and classified goes to a
// person, with that reason, and so does a photo without a usable
// prediction. Every review a row names gets a decision: a bad row sends its
// review to a person; a row that names no review fails the step, or with
// OnBadRow "skip" goes to rejected.jsonl. The policy's audit sample sends
// its share of the automatic decisions to a person, the automatic
// decision kept beside. Errors a retry will not fix are fault.BadInput.
func DecideDay(ctx context.Context, store *storage.Storage, opts DayOptions) (*DayResult, error) {
	start := time.Now()
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	if opts.Out == "" || opts.Reviews == "" || opts.Policy == "" {
		return nil, fault.BadInputf("--reviews, --policy and --out are required")
	}
	if opts.OnBadRow != "" && opts.OnBadRow != "fail" && opts.OnBadRow != "skip" {
		return nil, fault.BadInputf("--on-bad-row %s: want fail or skip", clip.Q(opts.OnBadRow))
	}
	if err := storage.CheckOutFolder("--out", opts.Out); err != nil {
		return nil, err
	}
	if opts.Report != "" {
		if err := storage.CheckOutFile("--report", opts.Report); err != nil {
			return nil, err
		}
	}
	policy, err := LoadPolicy(ctx, store, "--policy", opts.Policy)
	if err != nil {
		return nil, err
	}
	preds, err := inspect.LoadPredictions(ctx, store, "--predictions", opts.Predictions)
	if err != nil {
		return nil, err
	}
	reviews, bad, err := inspect.LoadReviews(ctx, store, "--reviews", opts.Reviews)
	if err != nil {
		return nil, err
	}
	if len(reviews)+len(bad) == 0 && !opts.AllowEmpty {
		return nil, fault.BadInputf("--reviews %s: no rows: a day with no reviews? (--allow-empty accepts it)", clip.S(opts.Reviews))
	}
	// A review with a bad row cannot be judged on the photos that read
	// well: it goes to a person. A row that names no review cannot be
	// decided at all: it fails the step, or with OnBadRow skip goes to
	// rejected.jsonl.
	badReview := map[string]string{}
	var unidentified []*inspect.RowError
	for _, b := range bad {
		if !b.Identified() {
			unidentified = append(unidentified, b)
			continue
		}
		if _, seen := badReview[b.Review.ReviewID]; !seen {
			badReview[b.Review.ReviewID] = b.Error()
		}
	}
	if len(unidentified) > 0 && opts.OnBadRow != "skip" {
		return nil, unidentifiedError(opts.Reviews, unidentified)
	}
	type key struct {
		id  string
		idx int
	}
	byPhoto := make(map[key]*inspect.PredictionRow, len(preds))
	day, model, job := "", "", ""
	for i := range preds {
		p := &preds[i]
		byPhoto[key{p.ReviewID, p.ImageIndex}] = p
		day, model, job = p.Day, p.Model, p.TransformJob
	}
	// Every photo of every review, with its prediction or without. A
	// prediction counts only for the photo it was made on: the review's
	// row and the staged photo must name the same image.
	grouped := map[string]*Review{}
	var order []string
	var mismatched []string // review IDs
	for _, r := range reviews {
		rv, ok := grouped[r.ReviewID]
		if !ok {
			rv = &Review{ID: r.ReviewID, Type: r.ReviewType}
			grouped[r.ReviewID] = rv
			order = append(order, r.ReviewID)
		}
		ph := Photo{Index: r.ImageIndex, Status: inspect.StatusMissing, Confidence: math.NaN(),
			Reason: "no prediction: the photo was not staged or not transformed"}
		if p, ok := byPhoto[key{r.ReviewID, r.ImageIndex}]; ok {
			if p.ImageURI == r.ImageURI {
				ph.Status, ph.Class, ph.Confidence, ph.Reason = p.Status, p.ClassName, p.Confidence, p.Reason
				ph.Probabilities = p.Probabilities
			} else {
				ph.Status = statusMismatch
				ph.Reason = fmt.Sprintf("the prediction is of %s, not of this review's photo %s", clip.Q(p.ImageURI), clip.Q(r.ImageURI))
				mismatched = append(mismatched, r.ReviewID)
			}
		}
		rv.Photos = append(rv.Photos, ph)
	}
	for _, b := range bad {
		id := b.Review.ReviewID
		if _, isBad := badReview[id]; isBad && grouped[id] == nil {
			typ := b.Review.ReviewType
			if typ != inspect.ProductReview && typ != inspect.StyleReview {
				typ = ""
			}
			grouped[id] = &Review{ID: id, Type: typ}
			order = append(order, id)
		}
	}
	if len(mismatched) > 0 {
		log.Warn("photos whose prediction is of another photo: their reviews go to a person",
			"photos", len(mismatched), "first_reviews", firstIDs(mismatched, 5))
	}
	if len(badReview) > 0 {
		log.Warn("reviews with a bad row: they go to a person", "reviews", len(badReview),
			"first_reviews", firstIDs(slices.Sorted(maps.Keys(badReview)), 5))
	}
	slices.Sort(order)
	res := &DayResult{Day: day, PolicyVersion: policy.Version, Reviews: len(order), Report: opts.Report,
		ByDecision: map[string]int{Grant: 0, Reject: 0, Manual: 0}, ManualReasons: map[string]int{}, BadRows: len(bad),
		Rejected: len(unidentified), Mismatched: len(mismatched)}
	rows := make([]DecisionRow, 0, len(order))
	byType := map[string]creditreport.Counts{}
	for _, id := range order {
		rv := grouped[id]
		slices.SortFunc(rv.Photos, func(a, b Photo) int { return a.Index - b.Index })
		var d Decision
		if reason, isBad := badReview[id]; isBad {
			d = manualDecision(rv, "a row of this review is bad: "+reason)
		} else if d, err = policy.Decide(*rv); err != nil {
			return nil, fault.BadInputf("review %s: %v", clip.S(id), err)
		}
		d = Audit(d, day, policy.AuditRate)
		rows = append(rows, DecisionRow{Decision: d, PolicyVersion: policy.Version, Model: model, TransformJob: job, Day: day,
			GrantCredit: policy.GrantCredit(d.ReviewType)})
		res.ByDecision[d.Decision]++
		res.CreditsGranted += d.Credit
		c := byType[d.ReviewType]
		c.Reviews++
		c.Credits += d.Credit
		switch d.Decision {
		case Grant:
			c.Grant++
		case Reject:
			c.Reject++
		default:
			c.Manual++
			switch _, isBad := badReview[id]; {
			case isBad:
				res.ManualReasons["a row of the review is bad"]++
			case d.Audit:
				res.Audits++
				res.ManualReasons["audit: a random check of the automatic decisions"]++
			default:
				res.ManualReasons[manualReason(rv)]++
			}
		}
		byType[d.ReviewType] = c
	}
	if res.Reviews > 0 {
		res.AutomationRate = float64(res.ByDecision[Grant]+res.ByDecision[Reject]) / float64(res.Reviews)
	}
	report, err := policyReport(policy)
	if err != nil {
		return nil, fault.New(fault.BadInput, fmt.Errorf("--policy %s: %w", clip.S(opts.Policy), err))
	}
	res.CertifiedCoverage = report.CertifiedCoverage

	spool, err := storage.NewSpool(opts.Out)
	if err != nil {
		return nil, err
	}
	defer spool.Discard()
	if err := spool.WriteFile(FileDecisions, func(w io.Writer) error { return WriteDecisions(w, rows) }); err != nil {
		return nil, err
	}
	published := []string{FileDecisions}
	if len(unidentified) > 0 {
		if err := spool.WriteFile(FileRejected, func(w io.Writer) error { return writeRejected(w, unidentified) }); err != nil {
			return nil, err
		}
		res.RejectedURI = storage.Join(opts.Out, FileRejected)
		published = append(published, FileRejected)
		log.Warn("rows that name no review were not decided", "rows", len(unidentified), "file", res.RejectedURI)
	}
	res.Decisions = storage.Join(opts.Out, FileDecisions)
	res.ElapsedSeconds = time.Since(start).Seconds()
	if err := spool.WriteFile(FileSummary, func(w io.Writer) error { return writeJSON(w, res) }); err != nil {
		return nil, err
	}
	if err := spool.Publish(ctx, store, append(published, FileSummary)...); err != nil {
		return nil, err
	}
	if opts.Report != "" {
		photos := 0
		for _, rv := range grouped {
			photos += len(rv.Photos)
		}
		report.Title = fmt.Sprintf("reviewlens credit: %s, %d reviews", day, res.Reviews)
		report.GeneratedAt = time.Now().UTC()
		report.Day = &creditreport.Day{
			Day: day, Reviews: res.Reviews, Photos: photos,
			Grant: res.ByDecision[Grant], Reject: res.ByDecision[Reject], Manual: res.ByDecision[Manual],
			AutomationRate: res.AutomationRate, CreditsGranted: res.CreditsGranted, ByType: byType, ManualReasons: res.ManualReasons,
		}
		var buf bytes.Buffer
		if err := creditreport.Write(&buf, report); err != nil {
			return nil, err
		}
		if err := store.WriteFile(ctx, opts.Report, buf.Bytes()); err != nil {
			return nil, err
		}
	}
	log.Info("credit done", "reviews", res.Reviews, "grant", res.ByDecision[Grant], "reject", res.ByDecision[Reject],
		"manual", res.ByDecision[Manual], "automation_rate", res.AutomationRate, "credits", res.CreditsGranted)
	return res, nil
}

// LoadPolicy reads the policy file at uri; name is how the caller names it
// in messages ("--policy"). A policy that does not parse is a
// fault.BadInput error naming the line.
func LoadPolicy(ctx context.Context, store *storage.Storage, name, uri string) (*Policy, error) {
	data, file, err := store.ReadInput(ctx, name, uri, "")
	if err != nil {
		return nil, err
	}
	p, err := ParsePolicy(bytes.NewReader(data))
	if err != nil {
		return nil, fault.BadInputf("%s %s: %v", name, clip.S(file), err)
	}
	return p, nil
}

// manualReason says in a few words why a review went to a person.
func manualReason(rv *Review) string {
	for _, p := range rv.Photos {
		if p.Status == statusMismatch {
			return "a photo's prediction is of another photo"
		}
	}
	for _, p := range rv.Photos {
		if p.Status != inspect.StatusOK {
			return "a photo has no usable prediction (" + p.Status + ")"
		}
	}
	if len(rv.Photos) == 0 {
		return "no photo"
	}
	return "a photo's score is below its threshold"
}

// firstIDs lists at most n IDs for a log line.
func firstIDs(ids []string, n int) []string {
	out := make([]string, 0, min(n, len(ids)))
	for _, id := range ids {
		if len(out) == n {
			break
		}
		if !slices.Contains(out, clip.S(id)) {
			out = append(out, clip.S(id))
		}
	}
	return out
}

// maxListed is how many bad rows a failing step lists.
const maxListed = 20

// unidentifiedError lists the rows that name no review.
func unidentifiedError(reviews string, rows []*inspect.RowError) error {
	var b strings.Builder
	verb := "rows name"
	if len(rows) == 1 {
		verb = "row names"
	}
	fmt.Fprintf(&b, "%s: %d %s no review, so no decision can be made on them", clip.S(reviews), len(rows), verb)
	for i, r := range rows {
		if i == maxListed {
			fmt.Fprintf(&b, "\n  … and %d more", len(rows)-maxListed)
			break
		}
		b.WriteString("\n  ")
		b.WriteString(r.Error())
	}
	fmt.Fprintf(&b, "\n(rerun with --on-bad-row skip to write them to %s and decide the rest)", FileRejected)
	return fault.New(fault.BadInput, errors.New(b.String()))
}

// rejectedRow is a line of rejected.jsonl.
type rejectedRow struct {
	Row      int    `json:"row"`
	Column   string `json:"column,omitempty"`
	Reason   string `json:"reason"`
	ReviewID string `json:"review_id,omitempty"`
	ImageURI string `json:"image_uri,omitempty"`
}

func writeRejected(w io.Writer, rows []*inspect.RowError) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, r := range rows {
		if err := enc.Encode(rejectedRow{Row: r.Row, Column: r.Column, Reason: r.Reason,
			ReviewID: clip.S(r.Review.ReviewID), ImageURI: clip.S(r.Review.ImageURI)}); err != nil {
			return err
		}
	}
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// manualDecision sends a review to a person for a reason of its own.
func manualDecision(rv *Review, reason string) Decision {
	d := Decision{ReviewID: rv.ID, ReviewType: rv.Type, Decision: Manual, Reasons: []string{reason}}
	for _, p := range rv.Photos {
		d.Classes = append(d.Classes, p.Class)
		d.Confidences = append(d.Confidences, p.Confidence)
	}
	return d
}
