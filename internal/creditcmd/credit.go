package creditcmd

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

	"github.com/reviewlens/reviewlens/credit"
	"github.com/reviewlens/reviewlens/inspect"
	"github.com/reviewlens/reviewlens/internal/cli"
	"github.com/reviewlens/reviewlens/internal/clip"
	"github.com/reviewlens/reviewlens/internal/creditreport"
	"github.com/reviewlens/reviewlens/internal/stepio"
	"github.com/reviewlens/reviewlens/storage"
)

// Output files of the credit step.
const (
	FileDecisions = "decisions.parquet"
	FileSummary   = "summary.json"
)

// CreditConfig is the credit step's input.
type CreditConfig struct {
	Predictions string // the predictions step's predictions.parquet (or its folder)
	Reviews     string // the day's reviews (Parquet or CSV): every photo of every review
	Policy      string // the calibrated policy
	Out         string // the output folder: decisions.parquet, summary.json
	Report      string // the HTML report; "" = none
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

// CreditResult is the credit step's result JSON.
type CreditResult struct {
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
	// Rejected counts bad rows that name no review (--on-bad-row skip),
	// written to rejected.jsonl.
	Rejected    int    `json:"rejected"`
	RejectedURI string `json:"rejected_uri,omitempty"`
	// Mismatched counts photos whose prediction is of another photo than
	// the review's (the reviews file and the staged photos disagree):
	// their reviews went to a person.
	Mismatched int `json:"mismatched_photos"`
	// Audits counts the reviews the policy decided alone that the audit
	// sample (the policy's audit_rate) sent to a person: counted as manual.
	Audits         int     `json:"audits"`
	ElapsedSeconds float64 `json:"elapsed_seconds"`
}

// FileRejected holds the rows of the reviews file that name no review.
const FileRejected = "rejected.jsonl"

// statusMismatch marks a photo whose prediction is of another photo.
const statusMismatch = "mismatch"

// Credit does the credit step.
func Credit(ctx context.Context, store *storage.Storage, cfg CreditConfig) (*CreditResult, error) {
	start := time.Now()
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if cfg.Out == "" || cfg.Reviews == "" || cfg.Policy == "" {
		return nil, cli.BadInputf("--reviews, --policy and --out are required")
	}
	if cfg.OnBadRow != "" && cfg.OnBadRow != "fail" && cfg.OnBadRow != "skip" {
		return nil, cli.BadInputf("--on-bad-row %s: want fail or skip", clip.Q(cfg.OnBadRow))
	}
	if err := stepio.OutFolder("--out", cfg.Out); err != nil {
		return nil, err
	}
	if cfg.Report != "" {
		if err := stepio.OutFile("--report", cfg.Report); err != nil {
			return nil, err
		}
	}
	policy, err := readPolicy(ctx, store, cfg.Policy)
	if err != nil {
		return nil, err
	}
	preds, err := readPredictions(ctx, store, cfg.Predictions)
	if err != nil {
		return nil, err
	}
	reviews, bad, err := stepio.ReadReviews(ctx, store, "--reviews", cfg.Reviews)
	if err != nil {
		return nil, err
	}
	if len(reviews)+len(bad) == 0 && !cfg.AllowEmpty {
		return nil, cli.BadInputf("--reviews %s: no rows: a day with no reviews? (--allow-empty accepts it)", clip.S(cfg.Reviews))
	}
	// A review with a bad row cannot be judged on the photos that read
	// well: it goes to a person. A row that names no review cannot be
	// decided at all: it fails the step, or with --on-bad-row skip goes
	// to rejected.jsonl.
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
	if len(unidentified) > 0 && cfg.OnBadRow != "skip" {
		return nil, unidentifiedError(cfg, unidentified)
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
	grouped := map[string]*credit.Review{}
	var order []string
	var mismatched []string // review IDs
	for _, r := range reviews {
		rv, ok := grouped[r.ReviewID]
		if !ok {
			rv = &credit.Review{ID: r.ReviewID, Type: r.ReviewType}
			grouped[r.ReviewID] = rv
			order = append(order, r.ReviewID)
		}
		ph := credit.Photo{Index: r.ImageIndex, Status: inspect.StatusMissing, Confidence: math.NaN(),
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
			grouped[id] = &credit.Review{ID: id, Type: typ}
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
	res := &CreditResult{Day: day, PolicyVersion: policy.Version, Reviews: len(order), Report: cfg.Report,
		ByDecision: map[string]int{credit.Grant: 0, credit.Reject: 0, credit.Manual: 0}, ManualReasons: map[string]int{}, BadRows: len(bad),
		Rejected: len(unidentified), Mismatched: len(mismatched)}
	rows := make([]credit.DecisionRow, 0, len(order))
	byType := map[string]creditreport.Counts{}
	for _, id := range order {
		rv := grouped[id]
		slices.SortFunc(rv.Photos, func(a, b credit.Photo) int { return a.Index - b.Index })
		var d credit.Decision
		if reason, isBad := badReview[id]; isBad {
			d = manualDecision(rv, "a row of this review is bad: "+reason)
		} else if d, err = policy.Decide(*rv); err != nil {
			return nil, cli.BadInputf("review %s: %v", id, err)
		}
		d = credit.Audit(d, day, policy.AuditRate)
		rows = append(rows, credit.DecisionRow{Decision: d, PolicyVersion: policy.Version, Model: model, TransformJob: job, Day: day,
			GrantCredit: policy.GrantCredit(d.ReviewType)})
		res.ByDecision[d.Decision]++
		res.CreditsGranted += d.Credit
		c := byType[d.ReviewType]
		c.Reviews++
		c.Credits += d.Credit
		switch d.Decision {
		case credit.Grant:
			c.Grant++
		case credit.Reject:
			c.Reject++
		default:
			c.Manual++
			if _, isBad := badReview[id]; isBad {
				res.ManualReasons["a row of the review is bad"]++
			} else if d.Audit {
				res.Audits++
				res.ManualReasons["audit: a random check of the automatic decisions"]++
			} else {
				res.ManualReasons[manualReason(rv)]++
			}
		}
		byType[d.ReviewType] = c
	}
	if res.Reviews > 0 {
		res.AutomationRate = float64(res.ByDecision[credit.Grant]+res.ByDecision[credit.Reject]) / float64(res.Reviews)
	}

	spool, err := storage.NewSpool(cfg.Out)
	if err != nil {
		return nil, err
	}
	defer spool.Discard()
	if err := spool.WriteFile(FileDecisions, func(w io.Writer) error { return credit.WriteDecisions(w, rows) }); err != nil {
		return nil, err
	}
	published := []string{FileDecisions}
	if len(unidentified) > 0 {
		if err := spool.WriteFile(FileRejected, func(w io.Writer) error { return writeRejected(w, unidentified) }); err != nil {
			return nil, err
		}
		res.RejectedURI = storage.Join(cfg.Out, FileRejected)
		published = append(published, FileRejected)
		log.Warn("rows that name no review were not decided", "rows", len(unidentified), "file", res.RejectedURI)
	}
	res.Decisions = storage.Join(cfg.Out, FileDecisions)
	res.ElapsedSeconds = time.Since(start).Seconds()
	if err := spool.WriteFile(FileSummary, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}); err != nil {
		return nil, err
	}
	if err := spool.Publish(ctx, store, append(published, FileSummary)...); err != nil {
		return nil, err
	}
	if cfg.Report != "" {
		var buf bytes.Buffer
		photos := 0
		for _, rv := range grouped {
			photos += len(rv.Photos)
		}
		err := creditreport.Write(&buf, creditreport.Data{
			Title:         fmt.Sprintf("reviewlens credit: %s, %d reviews", day, res.Reviews),
			GeneratedAt:   time.Now().UTC(),
			PolicyVersion: policy.Version,
			Classes:       policy.Classes,
			Day: &creditreport.Day{
				Day: day, Reviews: res.Reviews, Photos: photos,
				Grant: res.ByDecision[credit.Grant], Reject: res.ByDecision[credit.Reject], Manual: res.ByDecision[credit.Manual],
				AutomationRate: res.AutomationRate, CreditsGranted: res.CreditsGranted, ByType: byType, ManualReasons: res.ManualReasons,
			},
			Notes: certificateNotes(policy),
		})
		if err != nil {
			return nil, err
		}
		if err := store.WriteFile(ctx, cfg.Report, buf.Bytes()); err != nil {
			return nil, err
		}
	}
	log.Info("credit done", "reviews", res.Reviews, "grant", res.ByDecision[credit.Grant], "reject", res.ByDecision[credit.Reject],
		"manual", res.ByDecision[credit.Manual], "automation_rate", res.AutomationRate, "credits", res.CreditsGranted)
	return res, nil
}

// manualReason says in a few words why a review went to a person.
func manualReason(rv *credit.Review) string {
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
	return "a photo's confidence is below its threshold"
}

// certificateNotes quotes what the policy's thresholds certify.
func certificateNotes(p *credit.Policy) []string {
	if len(p.Certificate) == 0 {
		return []string{"The policy carries no certificate: its thresholds were not set by reviewlens calibrate."}
	}
	var notes []string
	if s, ok := p.Certificate["statement"].(string); ok {
		notes = append(notes, s)
	}
	for _, k := range slices.Sorted(maps.Keys(p.Certificate)) {
		if k == "statement" || k == "families" {
			continue
		}
		notes = append(notes, fmt.Sprintf("%s: %v", k, p.Certificate[k]))
	}
	return notes
}

// firstIDs lists at most n IDs for a log line.
func firstIDs(ids []string, n int) []string {
	out := make([]string, 0, min(n, len(ids)))
	for _, id := range ids {
		if len(out) == n {
			break
		}
		if !slices.Contains(out, id) {
			out = append(out, clip.S(id))
		}
	}
	return out
}

// maxListed is how many bad rows a failing step lists.
const maxListed = 20

// unidentifiedError lists the rows that name no review.
func unidentifiedError(cfg CreditConfig, rows []*inspect.RowError) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d %s no review, so no decision can be made on them", clip.S(cfg.Reviews), len(rows), map[bool]string{true: "row names", false: "rows name"}[len(rows) == 1])
	for i, r := range rows {
		if i == maxListed {
			fmt.Fprintf(&b, "\n  … and %d more", len(rows)-maxListed)
			break
		}
		b.WriteString("\n  ")
		b.WriteString(r.Error())
	}
	fmt.Fprintf(&b, "\n(rerun with --on-bad-row skip to write them to %s and decide the rest)", FileRejected)
	return cli.BadInput(errors.New(b.String()))
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

// manualDecision sends a review to a person for a reason of its own.
func manualDecision(rv *credit.Review, reason string) credit.Decision {
	d := credit.Decision{ReviewID: rv.ID, ReviewType: rv.Type, Decision: credit.Manual, Reasons: []string{reason}}
	for _, p := range rv.Photos {
		d.Classes = append(d.Classes, p.Class)
		d.Confidences = append(d.Confidences, p.Confidence)
	}
	return d
}
