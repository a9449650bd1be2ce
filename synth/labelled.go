package synth

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Files WriteLabelled writes in its folder.
const (
	ManifestFile   = "output.manifest"
	CategoriesFile = "label-categories.json"
	TruthFile      = "truth.csv"
	PhotosDir      = "photos"
)

// DefaultLabelledBaseURI is the prefix of the labelled photos' source-refs
// when LabelledOptions.BaseURI is empty.
const DefaultLabelledBaseURI = "s3://reviewlens-synth/labelled/"

// LabelledOptions choose how WriteLabelled labels its photos. The zero
// value writes 96×96 photos, one in ten hard, under
// DefaultLabelledBaseURI, labelled "category" by job "reviewlens-synth",
// about a quarter of them by automated data labelling.
type LabelledOptions struct {
	Options
	// BaseURI is the prefix of every source-ref: a photo written to
	// <dir>/photos/000042.jpg is BaseURI + "photos/000042.jpg". Ground
	// Truth manifests hold s3:// URIs only (manifest.Reader refuses
	// anything else), so point it at wherever dir is served from; empty
	// means DefaultLabelledBaseURI.
	BaseURI string
	// Attribute is the label attribute name; empty means "category".
	Attribute string
	// JobName is the labelling job's name; empty means "reviewlens-synth".
	JobName string
	// AutoFraction is the share of easy photos labelled by automated data
	// labelling (human-annotated "no", confidence 0.95 and above); 0 means
	// 0.3, a negative value none. Hard photos are always labelled by
	// people, as Ground Truth sends its uncertain objects to them.
	AutoFraction float64
	// Created is the creation-date of the first label (the others follow
	// a few seconds apart); zero means 2026-11-01T00:00:00Z.
	Created time.Time
	// Workers draws photos in parallel; 0 means GOMAXPROCS. The output does
	// not depend on it.
	Workers int
}

// A Labelled set is what WriteLabelled wrote.
type Labelled struct {
	Dir        string
	Manifest   string // <dir>/output.manifest
	Categories string // <dir>/label-categories.json
	Truth      string // <dir>/truth.csv: each photo's class and difficulty
	Photos     int
	ByClass    [NumClasses]int
	Human      int // lines labelled by people
	Auto       int // lines labelled by automated data labelling
	Hard       int // photos made hard on purpose
}

// WriteLabelled writes n labelled photos to dir: the JPEGs under
// dir/photos, a Ground Truth output manifest of single-label image
// classification (output.manifest: one line a photo with the class index,
// and metadata with confidence, job-name, class-name, human-annotated,
// creation-date and type), the labelling job's label-category
// configuration (label-categories.json, classes in ClassNames order) and
// the truth kept aside (truth.csv). The classes are balanced (n/4 each,
// the first n%4 classes one more) in a shuffled order.
//
// The same seed and options give the same bytes. The manifest is written
// last, atomically: a folder that has one is complete.
func WriteLabelled(ctx context.Context, dir string, n int, seed int64, opts LabelledOptions) (*Labelled, error) {
	if n < 0 {
		return nil, fmt.Errorf("write labelled photos: n = %d", n)
	}
	base := opts.BaseURI
	if base == "" {
		base = DefaultLabelledBaseURI
	}
	attr := opts.Attribute
	if attr == "" {
		attr = "category"
	}
	jobName := opts.JobName
	if jobName == "" {
		jobName = "reviewlens-synth"
	}
	autoFraction := opts.AutoFraction
	switch {
	case autoFraction == 0:
		autoFraction = 0.3
	case autoFraction < 0:
		autoFraction = 0
	}
	created := opts.Created
	if created.IsZero() {
		created = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	}
	if err := os.MkdirAll(filepath.Join(dir, PhotosDir), 0o755); err != nil {
		return nil, fmt.Errorf("write labelled photos: %w", err)
	}

	plan := planRNG(seed, streamLabelled)
	classes := make([]Class, n)
	for i := range classes {
		classes[i] = Class(i % NumClasses)
	}
	plan.Shuffle(n, func(i, j int) { classes[i], classes[j] = classes[j], classes[i] })
	jobs := make([]job, n)
	names := make([]string, n)
	for i := range jobs {
		names[i] = fmt.Sprintf("%s/%06d.jpg", PhotosDir, i)
		jobs[i] = job{path: filepath.Join(dir, filepath.FromSlash(names[i])), class: classes[i], opts: opts.Options, rng: photoRNG(seed, streamLabelled, i)}
	}
	infos, err := writePhotos(ctx, jobs, opts.Workers)
	if err != nil {
		return nil, fmt.Errorf("write labelled photos: %w", err)
	}

	res := &Labelled{
		Dir:        dir,
		Manifest:   filepath.Join(dir, ManifestFile),
		Categories: filepath.Join(dir, CategoriesFile),
		Truth:      filepath.Join(dir, TruthFile),
		Photos:     n,
	}
	truth := make([]Truth, n)
	lines := make([][]byte, n)
	for i, info := range infos {
		uri := base + names[i]
		truth[i] = Truth{ImageURI: uri, Class: info.Class, Difficulty: info.Difficulty}
		res.ByClass[info.Class]++
		human := info.Difficulty != Easy || plan.Float64() >= autoFraction
		var conf float64
		switch {
		case !human:
			conf = math.Round(uniform(plan, 0.95, 1)*1000) / 1000
			res.Auto++
		case info.Difficulty == Easy:
			conf = math.Round(uniform(plan, 0.7, 0.99)*100) / 100
			res.Human++
		default:
			conf = math.Round(uniform(plan, 0.45, 0.8)*100) / 100
			res.Human++
		}
		if info.Difficulty != Easy {
			res.Hard++
		}
		date := created.Add(time.Duration(i) * 37 * time.Second).UTC().Format("2006-01-02T15:04:05.000000")
		lines[i], err = manifestLine(uri, attr, info.Class, conf, jobName, human, date)
		if err != nil {
			return nil, fmt.Errorf("write labelled photos: %w", err)
		}
	}
	if err := writeAtomic(res.Truth, func(w io.Writer) error { return WriteTruth(w, truth) }); err != nil {
		return nil, err
	}
	if err := writeAtomic(res.Categories, writeCategories); err != nil {
		return nil, err
	}
	err = writeAtomic(res.Manifest, func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		for _, l := range lines {
			bw.Write(l)
			bw.WriteByte('\n')
		}
		return bw.Flush()
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// manifestLine is one line of a Ground Truth output manifest, keys in the
// order Ground Truth writes them.
func manifestLine(uri, attr string, class Class, conf float64, job string, human bool, date string) ([]byte, error) {
	type metadata struct {
		Confidence     float64 `json:"confidence"`
		JobName        string  `json:"job-name"`
		ClassName      string  `json:"class-name"`
		HumanAnnotated string  `json:"human-annotated"`
		CreationDate   string  `json:"creation-date"`
		Type           string  `json:"type"`
	}
	h := "yes"
	if !human {
		h = "no"
	}
	src, err := json.Marshal(uri)
	if err != nil {
		return nil, err
	}
	name, err := json.Marshal(attr)
	if err != nil {
		return nil, err
	}
	meta, err := json.Marshal(metadata{conf, "labeling-job/" + job, class.String(), h, date, "groundtruth/image-classification"})
	if err != nil {
		return nil, err
	}
	metaName, err := json.Marshal(attr + "-metadata")
	if err != nil {
		return nil, err
	}
	line := []byte(`{"source-ref":`)
	line = append(line, src...)
	line = append(line, ',')
	line = append(line, name...)
	line = append(line, ':')
	line = strconv.AppendInt(line, int64(class), 10)
	line = append(line, ',')
	line = append(line, metaName...)
	line = append(line, ':')
	line = append(line, meta...)
	return append(line, '}'), nil
}

// writeCategories writes the label-category configuration: the classes in
// index order.
func writeCategories(w io.Writer) error {
	type label struct {
		Label string `json:"label"`
	}
	cfg := struct {
		Version string  `json:"document-version"`
		Labels  []label `json:"labels"`
	}{Version: "2018-11-28"}
	for _, n := range ClassNames {
		cfg.Labels = append(cfg.Labels, label{n})
	}
	data, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(data, '\n'))
	return err
}
