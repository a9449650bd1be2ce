package creditcmd

import (
	"bytes"
	"context"
	"encoding/json"
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
	"github.com/reviewlens/reviewlens/internal/creditreport"
	"github.com/reviewlens/reviewlens/internal/storage"
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
	Logger      *slog.Logger
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
	// BadRows counts rows of the reviews file that could not be read; their
	// reviews went to a person.
	BadRows        int     `json:"bad_rows"`
	ElapsedSeconds float64 `json:"elapsed_seconds"`
}

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
	policy, err := readPolicy(ctx, store, cfg.Policy)
	if err != nil {
		return nil, err
	}
	preds, err := readPredictions(ctx, store, cfg.Predictions)
	if err != nil {
		return nil, err
	}
	reviews, bad, err := readReviews(ctx, store, cfg.Reviews)
	if err != nil {
		return nil, err
	}
	// A review with a bad row cannot be judged on the photos that read
	// well: it goes to a person. Rows without a review id are counted.
	badReview := map[string]string{}
	for _, b := range bad {
		if b.Review.ReviewID == "" {
			continue
		}
		if _, seen := badReview[b.Review.ReviewID]; !seen && !b.Duplicate {
			badReview[b.Review.ReviewID] = b.Error()
		}
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
	// Every photo of every review, with its prediction or without.
	grouped := map[string]*credit.Review{}
	var order []string
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
			ph.Status, ph.Class, ph.Confidence, ph.Reason = p.Status, p.ClassName, p.Confidence, p.Reason
		}
		rv.Photos = append(rv.Photos, ph)
	}
	for _, b := range bad {
		id := b.Review.ReviewID
		if _, isBad := badReview[id]; isBad && grouped[id] == nil {
			grouped[id] = &credit.Review{ID: id, Type: b.Review.ReviewType}
			order = append(order, id)
		}
	}
	slices.Sort(order)
	res := &CreditResult{Day: day, PolicyVersion: policy.Version, Reviews: len(order), Report: cfg.Report,
		ByDecision: map[string]int{credit.Grant: 0, credit.Reject: 0, credit.Manual: 0}, ManualReasons: map[string]int{}, BadRows: len(bad)}
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
		rows = append(rows, credit.DecisionRow{Decision: d, PolicyVersion: policy.Version, Model: model, TransformJob: job, Day: day})
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
	res.Decisions = storage.Join(cfg.Out, FileDecisions)
	res.ElapsedSeconds = time.Since(start).Seconds()
	if err := spool.WriteFile(FileSummary, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}); err != nil {
		return nil, err
	}
	if err := spool.Publish(ctx, store, FileDecisions, FileSummary); err != nil {
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

func readReviews(ctx context.Context, store *storage.Storage, uri string) ([]inspect.Review, []*inspect.RowError, error) {
	data, err := store.ReadFile(ctx, uri)
	if err != nil {
		return nil, nil, inputError("--reviews", uri, err)
	}
	var reviews []inspect.Review
	var bad []*inspect.RowError
	if strings.HasSuffix(strings.ToLower(uri), ".csv") {
		reviews, bad, err = inspect.ReadReviewsCSV(bytes.NewReader(data), uri)
	} else {
		reviews, bad, err = inspect.ReadReviewsParquet(bytes.NewReader(data), uri)
	}
	if err != nil {
		return nil, nil, cli.BadInput(err)
	}
	return reviews, bad, nil
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
