// Package creditcmd holds the calibrate step (thresholds with a guaranteed
// accuracy, from labelled predictions) and the credit step (a day's
// decisions, from its predictions and the policy).
package creditcmd

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"time"

	"github.com/reviewlens/reviewlens/credit"
	"github.com/reviewlens/reviewlens/inspect"
	"github.com/reviewlens/reviewlens/internal/cli"
	"github.com/reviewlens/reviewlens/internal/clip"
	"github.com/reviewlens/reviewlens/internal/creditreport"
	"github.com/reviewlens/reviewlens/internal/stepio"
	"github.com/reviewlens/reviewlens/manifest"
	"github.com/reviewlens/reviewlens/storage"
)

// CalibrateConfig is the calibrate step's input.
type CalibrateConfig struct {
	Predictions string // predictions.parquet of photos whose class is known
	Labels      string // the manifest step's labels.parquet
	Policy      string // the policy to calibrate; "" = the default rule of the business
	Split       string // the labels' split to use: "validation" (default) or "all"
	Out         string // where the calibrated policy (YAML) goes
	Report      string // the HTML report; "" = none
	Options     credit.CalibrateOptions
	Logger      *slog.Logger
}

// CalibrateResult is the calibrate step's result JSON.
type CalibrateResult struct {
	Policy        string                    `json:"policy"`
	PolicyVersion string                    `json:"policy_version"`
	Report        string                    `json:"report,omitempty"`
	Photos        int                       `json:"photos"` // labelled predictions used
	Skipped       map[string]int            `json:"skipped"`
	Thresholds    map[string]map[string]any `json:"thresholds"`
	Families      []map[string]any          `json:"families"`
	Target        float64                   `json:"target_accuracy"`
	Delta         float64                   `json:"delta"`
	Certified     bool                      `json:"certified"` // every family certified
}

// Calibrate does the calibrate step.
func Calibrate(ctx context.Context, store *storage.Storage, cfg CalibrateConfig) (*CalibrateResult, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if err := stepio.OutFile("--out", cfg.Out); err != nil {
		return nil, err
	}
	if cfg.Report != "" {
		if err := stepio.OutFile("--report", cfg.Report); err != nil {
			return nil, err
		}
	}
	for _, f := range []struct {
		flag string
		v    float64
	}{{"--target-accuracy", cfg.Options.TargetAccuracy}, {"--delta", cfg.Options.Delta}} {
		if !(f.v > 0 && f.v < 1) {
			return nil, cli.BadInputf("%s %g: want a number between 0 and 1, both excluded", f.flag, f.v)
		}
	}
	split := cfg.Split
	switch split {
	case "":
		split = manifest.SplitValidation
	case manifest.SplitValidation, "all":
	case manifest.SplitTrain:
		return nil, cli.BadInputf("--split train: the model was trained on those photos, and its confidence on them is higher than on new ones, so thresholds calibrated there would not hold; want validation (photos held out of training) or all")
	default:
		return nil, cli.BadInputf("--split %s: want validation or all", clip.Q(split))
	}
	policy, err := readPolicy(ctx, store, cfg.Policy)
	if err != nil {
		return nil, err
	}
	preds, err := readPredictions(ctx, store, cfg.Predictions)
	if err != nil {
		return nil, err
	}
	data, labelsFile, err := stepio.ReadParquet(ctx, store, "--labels", cfg.Labels, "labels.parquet", "the manifest step's labels.parquet")
	if err != nil {
		return nil, err
	}
	labels, err := manifest.ReadLabels(ctx, bytes.NewReader(data), labelsFile)
	if err != nil {
		return nil, cli.BadInput(fmt.Errorf("--labels: %w", err))
	}
	truth := map[string]string{}
	multi := map[string]bool{}
	for _, l := range labels {
		if split != "all" && l.Split != split {
			continue
		}
		if _, dup := truth[l.SourceRef]; dup {
			multi[l.SourceRef] = true
		}
		truth[l.SourceRef] = l.ClassName
	}
	skipped := map[string]int{}
	var set []credit.Labelled
	for _, p := range preds {
		trueClass, ok := truth[p.ImageURI]
		switch {
		case !ok:
			skipped["no label"]++
		case multi[p.ImageURI]:
			skipped["multi-label"]++
		case p.Status != inspect.StatusOK:
			skipped[p.Status]++
		case trueClass == "":
			skipped["label without class name"]++
		default:
			set = append(set, credit.Labelled{Predicted: p.ClassName, Confidence: p.Confidence, Probabilities: p.Probabilities, True: trueClass})
		}
	}
	if len(set) == 0 {
		return nil, cli.BadInputf("no prediction of %s has a label in %s (split %s): nothing to calibrate on", cfg.Predictions, cfg.Labels, split)
	}
	cal, err := credit.Calibrate(policy, set, cfg.Options)
	if err != nil {
		return nil, cli.BadInput(err)
	}
	var buf bytes.Buffer
	if err := cal.Policy.WriteYAML(&buf); err != nil {
		return nil, err
	}
	if err := store.WriteFile(ctx, cfg.Out, buf.Bytes()); err != nil {
		return nil, err
	}
	res := &CalibrateResult{
		Policy: cfg.Out, PolicyVersion: cal.Policy.Version, Report: cfg.Report, Photos: len(set), Skipped: skipped,
		Thresholds: map[string]map[string]any{}, Target: cfg.Options.TargetAccuracy, Delta: cfg.Options.Delta, Certified: true,
	}
	for class, t := range cal.Policy.Thresholds {
		res.Thresholds[class] = map[string]any{"grant": thresholdJSON(t.Grant), "reject": thresholdJSON(t.Reject)}
	}
	for _, f := range cal.Families {
		s := f.Selection
		m := map[string]any{"family": f.Name(), "certified": s.Certified, "photos": f.Photos}
		if s.Certified {
			m["threshold"], m["coverage"], m["accuracy"], m["certified_accuracy"] = s.Threshold, s.Coverage, s.Accuracy, s.CertifiedAccuracy
		} else {
			m["reason"] = s.Reason
			res.Certified = false
		}
		res.Families = append(res.Families, m)
		log.Info("calibrated", "family", f.Name(), "certified", s.Certified, "threshold", s.Threshold, "coverage", s.Coverage,
			"certified_accuracy", s.CertifiedAccuracy, "reason", s.Reason)
	}
	if cfg.Report != "" {
		buf.Reset()
		if err := creditreport.Write(&buf, calibrationReport(cal, set, res)); err != nil {
			return nil, err
		}
		if err := store.WriteFile(ctx, cfg.Report, buf.Bytes()); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// thresholdJSON writes "never" for a decision that is never automatic.
func thresholdJSON(v float64) any {
	if math.IsInf(v, 1) {
		return "never"
	}
	return v
}

// calibrationReport maps a calibration to the report's terms.
func calibrationReport(cal *credit.Calibration, set []credit.Labelled, res *CalibrateResult) creditreport.Data {
	d := creditreport.Data{
		Title:          fmt.Sprintf("reviewlens calibrate: %d labelled photos", len(set)),
		GeneratedAt:    time.Now().UTC(),
		PolicyVersion:  cal.Policy.Version,
		TargetAccuracy: res.Target,
		Delta:          res.Delta,
		Classes:        cal.Policy.Classes,
	}
	for _, f := range cal.Families {
		s := f.Selection
		fam := creditreport.Family{
			Name: f.Name(), Decision: f.Decision, Certified: s.Certified, Threshold: s.Threshold, N: s.N, K: s.K,
			Coverage: s.Coverage, Accuracy: s.Accuracy, CertifiedAccuracy: s.CertifiedAccuracy, Reason: s.Reason, Procedure: s.Procedure,
		}
		for _, p := range f.Curve {
			fam.Curve = append(fam.Curve, creditreport.CurvePoint{Threshold: p.Threshold, Coverage: p.Coverage, Risk: p.Risk, Bound: p.Bound, N: p.N, K: p.K})
		}
		d.Families = append(d.Families, fam)
	}
	index := map[string]int{}
	for i, c := range cal.Policy.Classes {
		index[c] = i
	}
	k := len(cal.Policy.Classes)
	d.Confusion = make([][]int, k)
	for i := range d.Confusion {
		d.Confusion[i] = make([]int, k)
	}
	const bins = 10
	type acc struct {
		n, right int
		conf     float64
	}
	rel := make([][bins]acc, k)
	for _, l := range set {
		t, p := index[l.True], index[l.Predicted]
		d.Confusion[t][p]++
		b := min(bins-1, int(l.Confidence*bins))
		a := &rel[p][b]
		a.n++
		a.conf += l.Confidence
		if t == p {
			a.right++
		}
	}
	for ci, class := range cal.Policy.Classes {
		cr := creditreport.ClassReliability{Class: class}
		total := 0
		for b := range bins {
			total += rel[ci][b].n
		}
		for b := range bins {
			a := rel[ci][b]
			bin := creditreport.Bin{Lo: float64(b) / bins, Hi: float64(b+1) / bins, N: a.n}
			if a.n > 0 {
				bin.Confidence, bin.Accuracy = a.conf/float64(a.n), float64(a.right)/float64(a.n)
				cr.ECE += float64(a.n) / float64(total) * math.Abs(bin.Accuracy-bin.Confidence)
			}
			cr.Bins = append(cr.Bins, bin)
		}
		d.Reliability = append(d.Reliability, cr)
	}
	for key, n := range res.Skipped {
		d.Notes = append(d.Notes, fmt.Sprintf("%d predictions left out: %s", n, key))
	}
	slices.Sort(d.Notes)
	return d
}

func readPolicy(ctx context.Context, store *storage.Storage, uri string) (*credit.Policy, error) {
	if uri == "" {
		return credit.DefaultPolicy(), nil
	}
	data, file, err := stepio.ReadFile(ctx, store, "--policy", uri, "")
	if err != nil {
		return nil, err
	}
	p, err := credit.ParsePolicy(bytes.NewReader(data))
	if err != nil {
		return nil, cli.BadInputf("--policy %s: %v", clip.S(file), err)
	}
	return p, nil
}

func readPredictions(ctx context.Context, store *storage.Storage, uri string) ([]inspect.PredictionRow, error) {
	data, file, err := stepio.ReadParquet(ctx, store, "--predictions", uri, "predictions.parquet", "the predictions step's predictions.parquet")
	if err != nil {
		return nil, err
	}
	rows, err := inspect.ReadPredictions(bytes.NewReader(data), file)
	if err != nil {
		return nil, cli.BadInput(fmt.Errorf("--predictions: %w", err))
	}
	return rows, nil
}
