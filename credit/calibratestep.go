package credit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"path"
	"strings"
	"time"

	"github.com/reviewlens/reviewlens/fault"
	"github.com/reviewlens/reviewlens/inspect"
	"github.com/reviewlens/reviewlens/internal/clip"
	"github.com/reviewlens/reviewlens/internal/creditreport"
	"github.com/reviewlens/reviewlens/manifest"
	"github.com/reviewlens/reviewlens/storage"
)

// SplitAll calibrates on every labelled photo, for a labels table whose
// photos were all held out of training.
const SplitAll = "all"

// CalibrationSetOptions say which labelled predictions make a calibration
// set.
type CalibrationSetOptions struct {
	// Predictions is a predictions.parquet (or its folder) of photos whose
	// class is known; Labels the labels.parquet (or its folder) that knows
	// them.
	Predictions, Labels string
	// Split is the labels' split to use: manifest.SplitValidation (""
	// means it) or SplitAll. The training split is refused: the model's
	// confidence on the photos it learned from is higher than on new ones.
	Split string
	// AllowBiasedSample calibrates on a labels table not marked as a
	// random sample (see SampleMarker): the guarantee then holds for
	// photos like those, not for the day's.
	AllowBiasedSample bool
}

// A CalibrationSet is the labelled predictions a calibration runs on.
type CalibrationSet struct {
	Photos []Labelled
	// Skipped counts the predictions left out, by why: "no label",
	// "multi-label", a prediction status that is not ok.
	Skipped map[string]int
	// Sample is how the labelled photos were chosen, from the labels'
	// SampleMarker: SampleRandom, SampleQueue, or "" when unknown.
	Sample string
}

// LoadCalibrationSet joins predictions of labelled photos to their labels,
// by photo URI, keeping the split asked for: the set the calibrate step
// calibrates on. Errors a retry will not fix are fault.BadInput.
func LoadCalibrationSet(ctx context.Context, store *storage.Storage, opts CalibrationSetOptions) (*CalibrationSet, error) {
	split := opts.Split
	switch split {
	case "":
		split = manifest.SplitValidation
	case manifest.SplitValidation, SplitAll:
	case manifest.SplitTrain:
		return nil, fault.BadInputf("--split train: the model was trained on those photos, and its confidence on them is higher than on new ones, so thresholds calibrated there would not hold; want validation (photos held out of training) or all")
	default:
		return nil, fault.BadInputf("--split %s: want validation or all", clip.Q(split))
	}
	preds, err := inspect.LoadPredictions(ctx, store, "--predictions", opts.Predictions)
	if err != nil {
		return nil, err
	}
	data, labelsFile, err := store.ReadParquetInput(ctx, "--labels", opts.Labels, manifest.FileLabels, "the manifest step's labels.parquet")
	if err != nil {
		return nil, err
	}
	labels, err := manifest.ReadLabels(ctx, bytes.NewReader(data), labelsFile)
	if err != nil {
		return nil, fault.New(fault.BadInput, fmt.Errorf("--labels: %w", err))
	}
	set := &CalibrationSet{Skipped: map[string]int{}}
	switch marker, err := store.ReadFile(ctx, SampleMarkerFor(labelsFile)); {
	case err == nil:
		m, err := ReadSampleMarker(bytes.NewReader(marker))
		if err != nil {
			return nil, fault.BadInputf("--labels %s: its sample marker %s: %v", clip.S(labelsFile), SampleMarkerFor(labelsFile), err)
		}
		set.Sample = m.Sample
	case !errors.Is(err, storage.ErrNotExist):
		return nil, err
	}
	if err := CheckCalibrationSample(set.Sample, opts.AllowBiasedSample); err != nil {
		return nil, fault.New(fault.BadInput, fmt.Errorf("--labels %s: %w", clip.S(labelsFile), err))
	}
	truth := map[string]string{}
	multi := map[string]bool{}
	for _, l := range labels {
		if split != SplitAll && l.Split != split {
			continue
		}
		if _, dup := truth[l.SourceRef]; dup {
			multi[l.SourceRef] = true
		}
		truth[l.SourceRef] = l.ClassName
	}
	for _, p := range preds {
		trueClass, ok := truth[p.ImageURI]
		switch {
		case !ok:
			set.Skipped["no label"]++
		case multi[p.ImageURI]:
			set.Skipped["multi-label"]++
		case p.Status != inspect.StatusOK:
			set.Skipped[p.Status]++
		case trueClass == "":
			set.Skipped["label without class name"]++
		default:
			set.Photos = append(set.Photos, Labelled{Predicted: p.ClassName, Confidence: p.Confidence, Probabilities: p.Probabilities, True: trueClass})
		}
	}
	if len(set.Photos) == 0 {
		return nil, fault.BadInputf("no prediction of %s has a label in %s (split %s): nothing to calibrate on", clip.S(opts.Predictions), clip.S(opts.Labels), split)
	}
	return set, nil
}

// CalibratePolicyOptions are the calibrate step's inputs: its flags.
type CalibratePolicyOptions struct {
	CalibrationSetOptions
	// Policy is the policy to calibrate (YAML). Empty means the rule of
	// the business for the labels' classes (DefaultPolicyFor), read from
	// Classes.
	Policy string
	// Classes is the class list (classes.json, as the manifest step
	// writes it). Empty means the classes.json beside the labels. When
	// found, the policy's classes must be the same, in the same order:
	// the probabilities are matched to classes by position.
	Classes string
	// Calibrate says what the thresholds must guarantee: TargetAccuracy (or
	// Targets, per decision), Delta and the Guarantee; none of them is
	// filled in by default.
	Calibrate CalibrateOptions
	// Out is where the calibrated policy (YAML) goes; Report, when set,
	// the HTML report.
	Out, Report string
	Logger      *slog.Logger
}

// CalibratePolicyResult is the calibrate step's result.
type CalibratePolicyResult struct {
	Policy        string                    `json:"policy"`
	PolicyVersion string                    `json:"policy_version"`
	Report        string                    `json:"report,omitempty"`
	Photos        int                       `json:"photos"` // labelled predictions used
	Skipped       map[string]int            `json:"skipped"`
	Sample        string                    `json:"sample"`
	Guarantee     string                    `json:"guarantee"`
	Thresholds    map[string]map[string]any `json:"thresholds"`
	Families      []map[string]any          `json:"families"`
	Targets       map[string]float64        `json:"target_accuracy"`
	Delta         float64                   `json:"delta"`
	Certified     bool                      `json:"certified"` // every family certified
}

// CalibratePolicy is the calibrate step: it calibrates the policy's
// thresholds on the calibration set (LoadCalibrationSet) so that the
// automatic decisions reach the target accuracy with probability 1 − δ
// over the set (Calibrate), and writes the policy with its certificate to
// opts.Out and a report to opts.Report. Errors a retry will not fix are
// fault.BadInput.
func CalibratePolicy(ctx context.Context, store *storage.Storage, opts CalibratePolicyOptions) (*CalibratePolicyResult, error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	if err := storage.CheckOutFile("--out", opts.Out); err != nil {
		return nil, err
	}
	if opts.Report != "" {
		if err := storage.CheckOutFile("--report", opts.Report); err != nil {
			return nil, err
		}
	}
	set, err := LoadCalibrationSet(ctx, store, opts.CalibrationSetOptions)
	if err != nil {
		return nil, err
	}
	classes, err := calibrationClasses(ctx, store, opts)
	if err != nil {
		return nil, err
	}
	var policy *Policy
	if opts.Policy == "" {
		if classes == nil {
			return nil, fault.BadInputf("no --policy, and no classes.json beside --labels %s to build the default one from: give --classes or --policy", clip.S(opts.Labels))
		}
		if policy, err = DefaultPolicyFor(classes.Names()); err != nil {
			return nil, fault.New(fault.BadInput, fmt.Errorf("no --policy, and the default rule does not fit the labels' classes: %w", err))
		}
	} else {
		if policy, err = LoadPolicy(ctx, store, "--policy", opts.Policy); err != nil {
			return nil, err
		}
		if classes != nil {
			if err := policy.CheckClasses(classes.Names()); err != nil {
				return nil, fault.New(fault.BadInput, fmt.Errorf("--policy %s: %w", clip.S(opts.Policy), err))
			}
		}
	}
	cal, err := Calibrate(policy, set.Photos, opts.Calibrate)
	if err != nil {
		return nil, fault.New(fault.BadInput, err)
	}
	var buf bytes.Buffer
	if err := cal.Policy.WriteYAML(&buf); err != nil {
		return nil, err
	}
	if err := store.WriteFile(ctx, opts.Out, buf.Bytes()); err != nil {
		return nil, err
	}
	res := &CalibratePolicyResult{
		Policy: opts.Out, PolicyVersion: cal.Policy.Version, Report: opts.Report, Photos: len(set.Photos), Skipped: set.Skipped,
		Sample: set.Sample, Guarantee: cal.Guarantee, Thresholds: map[string]map[string]any{}, Targets: map[string]float64{},
		Delta: cal.Delta, Certified: true,
	}
	for name, t := range cal.Policy.Thresholds {
		res.Thresholds[name] = map[string]any{"grant": thresholdJSON(t.Grant), "reject": thresholdJSON(t.Reject)}
	}
	for _, f := range cal.Families {
		s := f.Selection
		m := map[string]any{"family": f.Name(), "certified": s.Certified, "photos": f.Photos, "target_accuracy": f.Target}
		if f.Decision != "" {
			m["decision"] = f.Decision
			res.Targets[f.Decision] = f.Target
		} else {
			res.Targets[Grant], res.Targets[Reject] = f.Target, f.Target
		}
		if f.ReviewType != "" {
			m["review_type"] = f.ReviewType
		}
		if s.Certified {
			m["threshold"], m["coverage"], m["accuracy"], m["certified_accuracy"] = s.Threshold, s.Coverage, s.Accuracy, s.CertifiedAccuracy
		} else {
			m["reason"] = s.Reason
			res.Certified = false
		}
		if f.MoreData.Note != "" {
			m["more_data"] = f.MoreData.Note
		}
		res.Families = append(res.Families, m)
		log.Info("calibrated", "family", f.Name(), "certified", s.Certified, "threshold", s.Threshold, "coverage", s.Coverage,
			"certified_accuracy", s.CertifiedAccuracy, "reason", s.Reason, "more_data", f.MoreData.Note)
	}
	if opts.Report != "" {
		d := calibrationReport(cal)
		d.Title = fmt.Sprintf("reviewlens calibrate: %d labelled photos", len(set.Photos))
		d.GeneratedAt = time.Now().UTC()
		for key, n := range set.Skipped {
			d.Notes = append(d.Notes, fmt.Sprintf("%d predictions left out: %s", n, key))
		}
		modelReport(&d, cal.Policy.Classes, set.Photos)
		buf.Reset()
		if err := creditreport.Write(&buf, d); err != nil {
			return nil, err
		}
		if err := store.WriteFile(ctx, opts.Report, buf.Bytes()); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// calibrationClasses reads the class list: opts.Classes, or the
// classes.json beside the labels when there is one (nil when there is
// none).
func calibrationClasses(ctx context.Context, store *storage.Storage, opts CalibratePolicyOptions) (*manifest.ClassMap, error) {
	if opts.Classes != "" {
		return manifest.LoadClasses(ctx, store, "--classes", opts.Classes, true)
	}
	file, err := store.Locate(ctx, "--labels", opts.Labels, manifest.FileLabels)
	if err != nil {
		return nil, err
	}
	beside := strings.TrimSuffix(file, path.Base(file)) + manifest.FileClasses
	if _, err := store.Stat(ctx, beside); err != nil {
		if errors.Is(err, storage.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	return manifest.LoadClasses(ctx, store, "the labels' classes.json", beside, false)
}

// thresholdJSON writes "never" for a decision that is never automatic.
func thresholdJSON(v float64) any {
	if math.IsInf(v, 1) {
		return "never"
	}
	return v
}
