package ledger

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"time"

	"github.com/reviewlens/reviewlens/credit"
	"github.com/reviewlens/reviewlens/fault"
	"github.com/reviewlens/reviewlens/internal/clip"
	"github.com/reviewlens/reviewlens/manifest"
	"github.com/reviewlens/reviewlens/storage"
)

// A LabelledPhoto is a photo a person classified when answering a review.
type LabelledPhoto struct {
	ReviewID  string
	Day       string // the review's day
	Index     int    // the photo's image_index
	ImageURI  string
	Class     string
	Inspector string
	DecidedAt time.Time
	ClosedAt  time.Time // when the ledger recorded the answer
	// AutoDecision is the policy's decision on an audit, "" on a review of
	// the queue: audits are a random sample of the reviews the policy
	// decides alone, queue reviews the ones it was unsure of.
	AutoDecision string
}

// Audit reports whether the photo is of an audited review.
func (p *LabelledPhoto) Audit() bool { return p.AutoDecision != "" }

// LabelledPhotos returns the photos people classified in answers recorded
// from day since to day until (YYYY-MM-DD, UTC, inclusive; until "" for no
// bound), oldest answer first. The days are those of the ledger's
// recording, not of the reviews: a weekly export from the day after the
// last one gets every label once, answers to old reviews included.
func (l *Ledger) LabelledPhotos(ctx context.Context, since, until string) ([]LabelledPhoto, error) {
	hi := "9999-12-31T"
	if until != "" {
		u, err := time.Parse(time.DateOnly, until)
		if err != nil {
			return nil, fmt.Errorf("labelled photos: until %q, want YYYY-MM-DD", until)
		}
		hi = u.AddDate(0, 0, 1).Format(time.DateOnly)
	}
	rows, err := l.db.QueryContext(ctx, l.d.rebind(`SELECT p.review_id, d.day, p.image_index, p.image_uri, p.class_name,
			i.inspector, i.decided_at, i.closed_at, d.auto_decision
		FROM inspection_photos p JOIN inspections i ON i.review_id = p.review_id
		JOIN decisions d ON d.review_id = p.review_id
		WHERE i.closed_at >= ? AND i.closed_at < ?
		ORDER BY i.closed_at, p.review_id, p.image_index`), since, hi)
	if err != nil {
		return nil, fmt.Errorf("read labelled photos: %w", err)
	}
	defer rows.Close()
	var out []LabelledPhoto
	for rows.Next() {
		var (
			p                  LabelledPhoto
			decided, closed    string
			inspector, autoDec sql.NullString
		)
		if err := rows.Scan(&p.ReviewID, &p.Day, &p.Index, &p.ImageURI, &p.Class, &inspector, &decided, &closed, &autoDec); err != nil {
			return nil, fmt.Errorf("read labelled photos: %w", err)
		}
		p.Inspector, p.AutoDecision = inspector.String, autoDec.String
		if p.DecidedAt, err = time.Parse(timeFormat, decided); err != nil {
			return nil, fmt.Errorf("read labelled photos: review %q: decided_at %q: %w", p.ReviewID, decided, err)
		}
		if p.ClosedAt, err = time.Parse(timeFormat, closed); err != nil {
			return nil, fmt.Errorf("read labelled photos: review %q: closed_at %q: %w", p.ReviewID, closed, err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read labelled photos: %w", err)
	}
	return out, nil
}

// ManifestOptions say how WriteOutputManifest names its labels.
type ManifestOptions struct {
	// Attribute is the label attribute; "" means DefaultLabelAttribute.
	Attribute string
	// JobName names the labelling job in each label's metadata, written
	// "labeling-job/<JobName>"; "" means DefaultJobName.
	JobName string
	// Classes is the model's class map: a label is the index of its class.
	// Required.
	Classes *manifest.ClassMap
}

// Defaults of the labels step.
const (
	// DefaultLabelAttribute is the label attribute of the example
	// labelling job (examples/groundtruth), so that the new labels can be
	// appended to its output manifest.
	DefaultLabelAttribute = "review-photo-category"
	DefaultJobName        = "reviewlens-inspections"
)

// WriteOutputManifest writes photos as a Ground Truth output manifest of
// a single-label image-classification job, one JSON line a photo:
//
//	{"source-ref":"s3://photos/r-1/0.jpg","review-photo-category":0,
//	 "review-photo-category-metadata":{"class-name":"product","confidence":1,
//	 "creation-date":"2026-11-29T14:03:00.000000","human-annotated":"yes",
//	 "job-name":"labeling-job/reviewlens-inspections",
//	 "type":"groundtruth/image-classification"},"review-id":"r-1","image-index":0}
//
// The label is the index of the class in opts.Classes; confidence is 1: a
// person's decision is taken as the truth (Ground Truth writes 0.00 for a
// single worker, which a --min-confidence filter of the manifest step
// would drop); creation-date is when the person decided, in UTC, as
// Ground Truth writes it. Every photo's class must be in opts.Classes.
func WriteOutputManifest(w io.Writer, photos []LabelledPhoto, opts ManifestOptions) error {
	if opts.Classes == nil {
		return fmt.Errorf("write output manifest: no class map")
	}
	attr, job := opts.Attribute, opts.JobName
	if attr == "" {
		attr = DefaultLabelAttribute
	}
	if job == "" {
		job = DefaultJobName
	}
	type metadata struct {
		ClassName      string  `json:"class-name"`
		Confidence     float64 `json:"confidence"`
		CreationDate   string  `json:"creation-date"`
		HumanAnnotated string  `json:"human-annotated"`
		JobName        string  `json:"job-name"`
		Type           string  `json:"type"`
	}
	quote := func(v any) []byte {
		b, _ := json.Marshal(v) // strings, numbers and the struct above: no error
		return b
	}
	bw := bufio.NewWriter(w)
	attrKey, metaKey := quote(attr), quote(attr+"-metadata")
	for _, p := range photos {
		idx, ok := opts.Classes.Index(p.Class)
		if !ok {
			return fmt.Errorf("write output manifest: review %q photo %d: class %q is not in the class map", p.ReviewID, p.Index, p.Class)
		}
		bw.WriteString(`{"source-ref":`)
		bw.Write(quote(p.ImageURI))
		bw.WriteByte(',')
		bw.Write(attrKey)
		bw.WriteByte(':')
		bw.WriteString(strconv.Itoa(idx))
		bw.WriteByte(',')
		bw.Write(metaKey)
		bw.WriteByte(':')
		bw.Write(quote(metadata{ClassName: p.Class, Confidence: 1, CreationDate: p.DecidedAt.UTC().Format("2006-01-02T15:04:05.000000"),
			HumanAnnotated: "yes", JobName: "labeling-job/" + job, Type: manifest.TypeSingleLabel}))
		bw.WriteString(`,"review-id":`)
		bw.Write(quote(p.ReviewID))
		bw.WriteString(`,"image-index":`)
		bw.WriteString(strconv.Itoa(p.Index))
		bw.WriteString("}\n")
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write output manifest: %w", err)
	}
	return nil
}

// WriteCalibrationLabels writes photos as a labels table
// (manifest.LabelsTable), every photo in the validation split: held out of
// training, for calibrate. Every photo's class must be in classes.
func WriteCalibrationLabels(w io.Writer, photos []LabelledPhoto, classes *manifest.ClassMap, jobName string) error {
	if jobName == "" {
		jobName = DefaultJobName
	}
	human := true
	rows := make([]manifest.LabelRow, len(photos))
	for i, p := range photos {
		idx, ok := classes.Index(p.Class)
		if !ok {
			return fmt.Errorf("write calibration labels: review %q photo %d: class %q is not in the class map", p.ReviewID, p.Index, p.Class)
		}
		rows[i] = manifest.LabelRow{SourceRef: p.ImageURI, Label: idx, ClassName: p.Class, Confidence: 1, Human: &human,
			JobName: jobName, AnnotatedAt: p.DecidedAt.UTC(), Split: manifest.SplitValidation}
	}
	if err := manifest.WriteLabels(w, rows); err != nil {
		return fmt.Errorf("write calibration labels: %w", err)
	}
	return nil
}

// The files of the labels step, in its output folder.
const (
	// FileOutputManifest holds the photos of the inspection queue, for
	// training: a Ground Truth output manifest (WriteOutputManifest).
	FileOutputManifest = "output.manifest"
	// FileCalibration holds the photos of the audits, for calibration: a
	// labels table (WriteCalibrationLabels), beside its sample marker
	// (credit.SampleMarkerFor) saying it is a random sample.
	FileCalibration = "calibration.parquet"
	FileSummary     = "summary.json"
)

// LabelsOptions are the labels step's input.
type LabelsOptions struct {
	DB string // the ledger's DSN; it must exist
	// Since and Until bound the days (UTC) the answers were recorded,
	// YYYY-MM-DD, inclusive. Since is required; Until "" means no bound.
	Since, Until string
	Out          string // the output folder, a URI
	// Classes is the model's class list: a class map file (the manifest
	// step's classes.json, a label-category config) or names in index
	// order "a,b,c". Required: the labels are class indices.
	Classes   string
	Attribute string // the label attribute; "" means DefaultLabelAttribute
	JobName   string // "" means DefaultJobName
	// Base, when set, is a Ground Truth output manifest to retrain on
	// together with the new labels (the labelling job's, with the same
	// label attribute): output.manifest then holds its lines as they are,
	// then the queue's photos that it does not already hold.
	Base   string
	Logger *slog.Logger
}

// LabelsResult is the labels step's result JSON, and its summary.json.
type LabelsResult struct {
	DB    string `json:"db"` // redacted
	Since string `json:"since"`
	Until string `json:"until,omitempty"`
	// Manifest is the output manifest of the queue's photos, for the
	// manifest step (sample "queue": good to train on, not to calibrate).
	Manifest      string         `json:"manifest"`
	ManifestPhoto int            `json:"manifest_photos"`
	ManifestByCls map[string]int `json:"manifest_by_class"`
	// Calibration is the labels table of the audits' photos, with its
	// sample marker (sample "random": a random sample of the automatic
	// decisions, for calibrate).
	Calibration      string         `json:"calibration"`
	CalibrationMark  string         `json:"calibration_sample"`
	CalibrationPhoto int            `json:"calibration_photos"`
	CalibrationByCls map[string]int `json:"calibration_by_class"`
	Reviews          int            `json:"reviews"` // reviews whose photos were classified
	// UnknownClass counts photos left out because their class is not in
	// the class map; Conflicting photos (the same photo given different
	// classes in two answers) are left out of both files.
	UnknownClass int      `json:"unknown_class"`
	Conflicting  int      `json:"conflicting"`
	Classes      []string `json:"classes"`
	// BaseLines are the lines of the base manifest (Base) at the head of
	// output.manifest; InBase counts the queue's photos left out because
	// the base already labels them.
	Base      string `json:"base_manifest,omitempty"`
	BaseLines int    `json:"base_lines,omitempty"`
	InBase    int    `json:"in_base,omitempty"`
}

// ExportLabels is the labels step: it writes, into opts.Out, the photos
// people classified in the answers recorded from opts.Since to opts.Until:
//
//   - output.manifest: the photos of the inspection queue, as a Ground
//     Truth output manifest (WriteOutputManifest), which the manifest step
//     reads unchanged to retrain;
//   - calibration.parquet: the photos of the audits, as a labels table in
//     the validation split (WriteCalibrationLabels), and
//     calibration.sample.json, its credit.SampleMarker: sample "random";
//   - summary.json: the result, last.
//
// Only audits are a random sample of what the model decides: queue photos
// are the ones it was unsure of, good to learn from and biased for
// calibration. So a photo goes to one file, never both: audits are kept
// out of training, so that a model trained on the manifest can be
// calibrated on them. A photo given two different classes is left out of
// both, and so is one whose class is not in the class map (each counted,
// with a warning).
func ExportLabels(ctx context.Context, store *storage.Storage, opts LabelsOptions) (*LabelsResult, error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	if _, err := time.Parse(time.DateOnly, opts.Since); err != nil {
		return nil, fault.BadInputf("--since %q: want a day, YYYY-MM-DD", opts.Since)
	}
	if opts.Until != "" {
		if _, err := time.Parse(time.DateOnly, opts.Until); err != nil {
			return nil, fault.BadInputf("--until %q: want a day, YYYY-MM-DD", opts.Until)
		}
		if opts.Until < opts.Since {
			return nil, fault.BadInputf("--since %s is after --until %s", opts.Since, opts.Until)
		}
	}
	if err := storage.CheckOutFolder("--out", opts.Out); err != nil {
		return nil, err
	}
	if opts.Classes == "" {
		return nil, fault.BadInputf("--classes: missing, want the model's class list (the manifest step's classes.json, or \"a,b,c\"): labels are class indices")
	}
	classes, err := manifest.LoadClasses(ctx, store, "--classes", opts.Classes, true)
	if err != nil {
		return nil, err
	}
	var base *baseManifest
	if opts.Base != "" {
		if base, err = readBase(ctx, store, opts.Base, cmp.Or(opts.Attribute, DefaultLabelAttribute)); err != nil {
			return nil, err
		}
	}
	l, err := OpenStep(ctx, opts.DB, OpenExisting)
	if err != nil {
		return nil, err
	}
	defer l.Close()
	photos, err := l.LabelledPhotos(ctx, opts.Since, opts.Until)
	if err != nil {
		return nil, err
	}

	res := &LabelsResult{DB: Redact(opts.DB), Since: opts.Since, Until: opts.Until, Classes: classes.Names(),
		ManifestByCls: map[string]int{}, CalibrationByCls: map[string]int{}}
	// A photo given two classes is left out; one given the same class
	// twice is kept once.
	classOf := map[string]string{}
	conflicting := map[string]bool{}
	for _, p := range photos {
		if c, ok := classOf[p.ImageURI]; ok && c != p.Class {
			conflicting[p.ImageURI] = true
		}
		classOf[p.ImageURI] = p.Class
	}
	var training, calibration []LabelledPhoto
	seen := map[string]bool{}
	reviews := map[string]bool{}
	var unknown []string
	for _, p := range photos {
		switch {
		case conflicting[p.ImageURI]:
			res.Conflicting++
			continue
		case seen[p.ImageURI]:
			continue
		}
		seen[p.ImageURI] = true
		if _, ok := classes.Index(p.Class); !ok {
			res.UnknownClass++
			if len(unknown) < 5 {
				unknown = append(unknown, fmt.Sprintf("%s photo %d: %q", p.ReviewID, p.Index, p.Class))
			}
			continue
		}
		reviews[p.ReviewID] = true
		switch {
		case p.Audit():
			calibration = append(calibration, p)
			res.CalibrationByCls[p.Class]++
		case base != nil && base.refs[p.ImageURI]:
			res.InBase++
		default:
			training = append(training, p)
			res.ManifestByCls[p.Class]++
		}
	}
	res.Reviews, res.ManifestPhoto, res.CalibrationPhoto = len(reviews), len(training), len(calibration)
	if base != nil {
		res.Base, res.BaseLines = opts.Base, base.lines
	}
	if res.UnknownClass > 0 {
		log.Warn("photos whose class is not in the class map were left out", "photos", res.UnknownClass, "first", unknown)
	}
	if res.Conflicting > 0 {
		log.Warn("photos given different classes in two answers were left out", "photos", res.Conflicting)
	}

	marker := credit.SampleMarker{Sample: credit.SampleRandom, Photos: len(calibration),
		Source: fmt.Sprintf("the photos of the audits whose answers were recorded from %s to %s: a random sample of the reviews the policy decided alone (reviewlens labels)", opts.Since, untilText(opts.Until)),
		Why:    "audits are drawn by a hash of day and review, whatever the photos show, so they are a random sample of the automatic decisions; the inspection queue's photos are the ones the model was unsure of, in output.manifest for training"}
	spool, err := storage.NewSpool(opts.Out)
	if err != nil {
		return nil, err
	}
	defer spool.Discard()
	markerName := credit.SampleMarkerFor(FileCalibration)
	for _, f := range []struct {
		name  string
		write func(io.Writer) error
	}{
		{FileOutputManifest, func(w io.Writer) error {
			if base != nil {
				if _, err := w.Write(base.data); err != nil {
					return err
				}
			}
			return WriteOutputManifest(w, training, ManifestOptions{Attribute: opts.Attribute, JobName: opts.JobName, Classes: classes})
		}},
		{FileCalibration, func(w io.Writer) error { return WriteCalibrationLabels(w, calibration, classes, opts.JobName) }},
		{markerName, func(w io.Writer) error { return writeJSON(w, marker) }},
	} {
		if err := spool.WriteFile(f.name, f.write); err != nil {
			return nil, err
		}
	}
	res.Manifest = storage.Join(opts.Out, FileOutputManifest)
	res.Calibration = storage.Join(opts.Out, FileCalibration)
	res.CalibrationMark = storage.Join(opts.Out, markerName)
	if err := spool.WriteFile(FileSummary, func(w io.Writer) error { return writeJSON(w, res) }); err != nil {
		return nil, err
	}
	if err := spool.Publish(ctx, store, FileOutputManifest, FileCalibration, markerName, FileSummary); err != nil {
		return nil, err
	}
	log.Info("labels written", "training_photos", len(training), "calibration_photos", len(calibration), "out", opts.Out)
	return res, nil
}

func untilText(until string) string {
	if until == "" {
		return "now"
	}
	return until
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// baseManifest is the manifest the labels step retrains on with the new
// labels: its bytes, whole lines, and the photos it labels.
type baseManifest struct {
	data  []byte
	lines int
	refs  map[string]bool
}

// readBase reads a base manifest, each of whose lines must be a JSON
// object with a source-ref and the label attribute attr: the manifest
// step reads the merged file with one attribute.
func readBase(ctx context.Context, store *storage.Storage, uri, attr string) (*baseManifest, error) {
	data, file, err := store.ReadInput(ctx, "--base-manifest", uri, "")
	if err != nil {
		return nil, err
	}
	b := &baseManifest{refs: map[string]bool{}}
	n := 0
	for line := range bytes.Lines(data) {
		n++
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var obj map[string]json.RawMessage
		var ref string
		if err := json.Unmarshal(line, &obj); err != nil {
			return nil, fault.BadInputf("--base-manifest %s: line %d: not a JSON object: %v", clip.S(file), n, err)
		}
		if err := json.Unmarshal(obj["source-ref"], &ref); err != nil || ref == "" {
			return nil, fault.BadInputf("--base-manifest %s: line %d: source-ref: missing, want the photo's s3:// URI", clip.S(file), n)
		}
		if _, ok := obj[attr]; !ok {
			return nil, fault.BadInputf("--base-manifest %s: line %d: no label attribute %q: give --label-attribute the base manifest's own, so that the manifest step reads one attribute", clip.S(file), n, attr)
		}
		b.refs[ref] = true
		b.lines++
	}
	b.data = data
	if len(data) > 0 && data[len(data)-1] != '\n' {
		b.data = append(bytes.Clone(data), '\n')
	}
	return b, nil
}
