package manifest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/reviewlens/reviewlens/fault"
	"github.com/reviewlens/reviewlens/internal/clip"
	"github.com/reviewlens/reviewlens/progress"
	"github.com/reviewlens/reviewlens/storage"
)

// Output file names in the --out folder.
const (
	FileLabels        = "labels.parquet"
	FileTrain         = "train.manifest"
	FileValidation    = "validation.manifest"
	FileTrainLst      = "train.lst"
	FileValidationLst = "validation.lst"
	FileClasses       = "classes.json"
	FileRejected      = "rejected.jsonl"
	FileSummary       = "summary.json"
	// FileLabelsSample says how the labelled photos were chosen, for the
	// calibrate step (credit.SampleMarker: {"sample": "random", ...}).
	FileLabelsSample = "labels.sample.json"
)

// outputKey names each file in Prepared.Outputs.
var outputKey = map[string]string{
	FileLabels: "labels", FileTrain: "train_manifest", FileValidation: "validation_manifest",
	FileTrainLst: "train_lst", FileValidationLst: "validation_lst", FileClasses: "classes",
	FileRejected: "rejected", FileSummary: "summary", FileLabelsSample: "labels_sample",
}

// PrepareOptions is the manifest step's input.
type PrepareOptions struct {
	In                 string   // the output manifest, a URI
	Out                string   // the output folder, a URI
	LabelAttribute     string   // "" = find the only image-classification attribute
	Classes            string   // a label-category config URI, or "a,b,c"; "" = learn from class-names
	MinConfidence      float64  // labels below are filtered
	HumanOnly          bool     // keep human-annotated lines only
	JobNames           []string // keep these labelling jobs only
	ValidationFraction float64  // share of photos in validation, [0, 1)
	Seed               int64    // changes the split, deterministically
	OnBadLine          string   // "fail" (default) or "skip"
	// LstPrefix, when set, makes the step copy every photo under
	// <LstPrefix>/train/ or <LstPrefix>/validation/ and write train.lst and
	// validation.lst relative to those prefixes, for File-mode training.
	LstPrefix       string
	CopyConcurrency int // concurrent photo copies; 0 = 32
	// Sample says how the labelling job's photos were chosen, written to
	// labels.sample.json for the calibrate step: "random" ("" means it:
	// the photos of a day drawn at random, the usual labelling job) or
	// "unknown" (say a job of hand-picked hard photos), which calibrate
	// refuses unless told otherwise.
	Sample string
	// Progress shows the photo copies as they go; nil means a log line
	// every 30 s.
	Progress progress.Meter
	Logger   *slog.Logger
}

// Prepared is the step's result JSON, also written to summary.json.
type Prepared struct {
	Outputs            map[string]string         `json:"outputs"`
	LabelAttribute     string                    `json:"label_attribute"`
	Classes            []string                  `json:"classes"`
	NumClasses         int                       `json:"num_classes"`
	NumTrainingSamples int                       `json:"num_training_samples"`
	MultiLabel         bool                      `json:"multi_label"`
	Lines              int                       `json:"lines"`
	BlankLines         int                       `json:"blank_lines"`
	Rows               map[string]int            `json:"rows"`     // photos per split
	ByClass            map[string]map[string]int `json:"by_class"` // split -> class -> photos
	Rejected           int                       `json:"rejected"`
	RejectedByKind     map[string]int            `json:"rejected_by_kind"`
	LenientConfidence  int                       `json:"lenient_confidence,omitempty"`
	PhotosCopied       int                       `json:"photos_copied,omitempty"`
	// LstPrefix is where the photos were copied for File-mode training:
	// <prefix>/train/ and <prefix>/validation/.
	LstPrefix      string  `json:"lst_prefix,omitempty"`
	ElapsedSeconds float64 `json:"elapsed_seconds"`
}

// maxPrepareListed is how many bad lines --on-bad-line fail lists.
const maxPrepareListed = 20

// Prepare is the manifest step: it turns the Ground Truth output manifest
// at opts.In into the inputs of the built-in image-classification
// algorithm, in the folder opts.Out: labels.parquet, the train and
// validation augmented manifests, classes.json, rejected.jsonl (every line
// not used, with its reason) and summary.json, the returned Prepared,
// written last, so that a folder with a summary.json is complete. With
// LstPrefix it also copies the photos under that prefix and writes
// train.lst and validation.lst, for File-mode training. The outputs are
// spooled and published whole; a photo that lines label differently is
// rejected on every line (Convert runs twice when it shows late). Errors
// a retry will not fix are fault.BadInput.
func Prepare(ctx context.Context, store *storage.Storage, cfg PrepareOptions) (*Prepared, error) {
	start := time.Now()
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	opts := ConvertOptions{
		Options: Options{
			LabelAttribute: cfg.LabelAttribute,
			MinConfidence:  cfg.MinConfidence,
			HumanOnly:      cfg.HumanOnly,
			JobNames:       cfg.JobNames,
		},
		ValidationFraction: cfg.ValidationFraction,
		Seed:               cfg.Seed,
	}
	if cfg.OnBadLine != "skip" {
		opts.MaxBad = maxPrepareListed
	}
	if cfg.Classes != "" {
		classes, err := LoadClasses(ctx, store, "--classes", cfg.Classes, true)
		if err != nil {
			return nil, err
		}
		opts.Classes = classes
	}
	if cfg.LstPrefix != "" {
		opts.LstPath = lstPath
	}
	in, err := store.Locate(ctx, "--in", cfg.In, "")
	if err != nil {
		return nil, err
	}
	if obj, err := store.Stat(ctx, in); err == nil {
		opts.SizeHint = obj.Size
	}
	names := []string{FileLabels, FileTrain, FileValidation, FileRejected}
	if cfg.LstPrefix != "" {
		names = append(names, FileTrainLst, FileValidationLst)
	}
	log.Info("converting manifest", "in", cfg.In, "out", cfg.Out)
	sum, spool, err := convert(ctx, store, in, cfg, opts, names)
	var conflicts *ConflictError
	if errors.As(err, &conflicts) {
		spool.Discard()
		// Lines already written label photos that later lines contradict:
		// convert again, rejecting every line of those photos.
		log.Warn("photos labelled differently on different lines: converting again without them",
			"photos", len(conflicts.Conflicts))
		opts.Conflicts = conflicts.Conflicts
		sum, spool, err = convert(ctx, store, in, cfg, opts, names)
	}
	if spool != nil {
		defer spool.Discard()
	}
	if err != nil {
		return nil, convertError(cfg.In, err)
	}
	if sum.Train == 0 {
		return nil, fault.BadInputf("%s: no photo left for training (%d lines, %d rejected: %s)%s", clip.S(cfg.In), sum.Lines, sum.Rejected(), kindList(sum), firstBad(sum))
	}
	if sum.Rejected() > 0 {
		log.Warn("lines not used", "rejected", sum.Rejected(), "invalid", sum.Invalid, "duplicate", sum.Duplicate,
			"conflict", sum.Conflicting, "unlabelled", sum.Unlabelled, "filtered", sum.Filtered, "file", storage.Join(cfg.Out, FileRejected))
	}
	if sum.LenientConfidence > 0 {
		log.Warn("confidence given as a string; read as a number", "lines", sum.LenientConfidence)
	}
	if err := spool.WriteFile(FileClasses, sum.Classes.WriteJSON); err != nil {
		return nil, err
	}
	sample := cfg.Sample
	if sample == "" {
		sample = "random"
	}
	source := "the labels of the Ground Truth output manifest " + clip.S(cfg.In) + ", its validation split held out of training"
	if cfg.ValidationFraction == 0 {
		source = "the labels of the Ground Truth output manifest " + clip.S(cfg.In) + ", no validation split (a calibration set of photos no model trained on is all of it: calibrate --split all)"
	}
	if err := spool.WriteFile(FileLabelsSample, func(w io.Writer) error {
		return writeJSON(w, map[string]any{
			"sample": sample,
			"source": source,
			"photos": sum.Train + sum.Validation,
			"why":    "a labelling job's photos, said to be " + sample + " by the manifest step's --sample",
		})
	}); err != nil {
		return nil, err
	}

	res := newResult(cfg, sum)
	if cfg.LstPrefix != "" {
		n, err := copyPhotos(ctx, store, spool, cfg, log)
		if err != nil {
			return nil, err
		}
		res.PhotosCopied, res.LstPrefix = n, cfg.LstPrefix
	}
	published := []string{FileLabels, FileLabelsSample, FileTrain, FileValidation, FileClasses, FileRejected}
	if cfg.LstPrefix != "" {
		published = append(published, FileTrainLst, FileValidationLst)
	}
	for _, name := range append(published, FileSummary) {
		res.Outputs[outputKey[name]] = storage.Join(cfg.Out, name)
	}
	res.ElapsedSeconds = time.Since(start).Seconds()
	if err := spool.WriteFile(FileSummary, func(w io.Writer) error { return writeJSON(w, res) }); err != nil {
		return nil, err
	}
	if err := spool.Publish(ctx, store, append(published, FileSummary)...); err != nil {
		return nil, err
	}
	log.Info("manifest done", "train", sum.Train, "validation", sum.Validation, "rejected", sum.Rejected(), "classes", sum.Classes.Len())
	return res, nil
}

func (cfg *PrepareOptions) check() error {
	switch {
	case cfg.In == "":
		return fault.BadInputf("--in: no manifest given")
	case !(cfg.ValidationFraction >= 0 && cfg.ValidationFraction < 1):
		return fault.BadInputf("--validation-fraction %g: want a number in [0, 1)", cfg.ValidationFraction)
	case !(cfg.MinConfidence >= 0 && cfg.MinConfidence <= 1):
		return fault.BadInputf("--min-confidence %g: want a number in [0, 1]", cfg.MinConfidence)
	case cfg.Sample != "" && cfg.Sample != "random" && cfg.Sample != "unknown":
		return fault.BadInputf("--sample %s: want random or unknown", clip.Q(cfg.Sample))
	case cfg.OnBadLine != "" && cfg.OnBadLine != "fail" && cfg.OnBadLine != "skip":
		return fault.BadInputf("--on-bad-line %q: want fail or skip", cfg.OnBadLine)
	case cfg.LstPrefix != "" && !storage.IsS3(cfg.LstPrefix):
		return fault.BadInputf("--lst-prefix %s: want an s3:// prefix (the photos are copied there for File-mode training)", cfg.LstPrefix)
	}
	return storage.CheckOutFolder("--out", cfg.Out)
}

// convert runs Convert once into a new spool, which the caller
// discards.
func convert(ctx context.Context, store *storage.Storage, uri string, cfg PrepareOptions, opts ConvertOptions, names []string) (*Summary, *storage.Spool, error) {
	in, err := store.Open(ctx, uri)
	if err != nil {
		if errors.Is(err, storage.ErrNotExist) {
			return nil, nil, fault.BadInputf("--in %s: no such manifest", clip.S(cfg.In))
		}
		return nil, nil, err
	}
	defer in.Close()
	spool, err := storage.NewSpool(cfg.Out)
	if err != nil {
		return nil, nil, err
	}
	files := map[string]io.Writer{}
	for _, n := range names {
		f, err := spool.Create(n)
		if err != nil {
			return nil, spool, err
		}
		files[n] = f
	}
	out := Outputs{
		Labels: files[FileLabels], Train: files[FileTrain], Validation: files[FileValidation],
		Rejected: files[FileRejected], TrainLst: files[FileTrainLst], ValidationLst: files[FileValidationLst],
	}
	sum, err := Convert(ctx, in, opts, out)
	if err != nil {
		return sum, spool, err
	}
	return sum, spool, spool.CloseFiles()
}

// kindList counts rejected lines by kind: "2 invalid, 1 duplicate".
func kindList(sum *Summary) string {
	var parts []string
	for _, k := range []struct {
		n    int
		kind Kind
	}{{sum.Invalid, Invalid}, {sum.Duplicate, Duplicate}, {sum.Conflicting, Conflicting},
		{sum.Unlabelled, Unlabelled}, {sum.Filtered, Filtered}} {
		if k.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", k.n, k.kind))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// firstBad lists the first bad lines for a message.
func firstBad(sum *Summary) string {
	var b strings.Builder
	for i, l := range sum.FirstBad {
		if i == 5 {
			fmt.Fprintf(&b, "\n  … (%d more)", len(sum.FirstBad)-5)
			break
		}
		b.WriteString("\n  ")
		b.WriteString(l.Error())
	}
	return b.String()
}

// convertError gives bad input its exit code and the manifest's name.
func convertError(in string, err error) error {
	var bad *BadLinesError
	switch {
	case errors.As(err, &bad):
		return fault.New(fault.BadInput, fmt.Errorf("%s: %w\n(rerun with --on-bad-line skip to write them to %s and go on)", in, err, FileRejected))
	case errors.Is(err, ErrEmpty):
		return fault.New(fault.BadInput, fmt.Errorf("--in %s: %w", clip.S(in), err))
	case errors.Is(err, ErrAmbiguousAttribute), errors.Is(err, ErrNoAttribute), errors.Is(err, ErrClassList):
		return fault.New(fault.BadInput, fmt.Errorf("%s: %w", in, err))
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	}
	return fmt.Errorf("%s: %w", in, err)
}

func newResult(cfg PrepareOptions, sum *Summary) *Prepared {
	names := sum.Classes.Names()
	byClass := func(counts []int) map[string]int {
		m := make(map[string]int, len(names))
		for i, n := range names {
			m[n] = counts[i]
		}
		return m
	}
	return &Prepared{
		Outputs:            map[string]string{},
		LabelAttribute:     sum.Attribute,
		Classes:            names,
		NumClasses:         len(names),
		NumTrainingSamples: sum.Train,
		MultiLabel:         sum.MultiLabel,
		Lines:              sum.Lines,
		BlankLines:         sum.Blank,
		Rows:               map[string]int{SplitTrain: sum.Train, SplitValidation: sum.Validation},
		ByClass: map[string]map[string]int{
			SplitTrain:      byClass(sum.TrainByClass),
			SplitValidation: byClass(sum.ValidationByClass),
		},
		Rejected: sum.Rejected(),
		RejectedByKind: map[string]int{
			Invalid.String(): sum.Invalid, Unlabelled.String(): sum.Unlabelled,
			Duplicate.String(): sum.Duplicate, Filtered.String(): sum.Filtered,
			Conflicting.String(): sum.Conflicting,
		},
		LenientConfidence: sum.LenientConfidence,
	}
}

// lstPath places a photo under a channel prefix: s3://bucket/key becomes
// bucket/key, so photos of different buckets cannot collide.
func lstPath(sourceRef string) string { return strings.TrimPrefix(sourceRef, "s3://") }

// copyPhotos copies every photo listed in the spooled .lst files under the
// channel prefixes, concurrently. Copies are server-side on S3 and safe to
// repeat.
func copyPhotos(ctx context.Context, store *storage.Storage, sp *storage.Spool, cfg PrepareOptions, log *slog.Logger) (int, error) {
	limit := cfg.CopyConcurrency
	if limit <= 0 {
		limit = 32
	}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(limit)
	task := progress.Or(cfg.Progress, log).Start("copying photos", -1)
	defer task.Done()
	total := 0
	for _, c := range []struct{ file, channel string }{{FileTrainLst, "train"}, {FileValidationLst, "validation"}} {
		f, err := os.Open(sp.Path(c.file))
		if err != nil {
			return 0, err
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			fields := strings.SplitN(sc.Text(), "\t", 3)
			if len(fields) != 3 {
				f.Close()
				return 0, fmt.Errorf("%s: malformed line %q", c.file, sc.Text())
			}
			rel := fields[2]
			src := "s3://" + rel
			dst := storage.Join(cfg.LstPrefix, c.channel, rel)
			total++
			g.Go(func() error {
				if err := store.Copy(ctx, dst, src); err != nil {
					if errors.Is(err, storage.ErrNotExist) {
						return fault.BadInputf("copy %s: the photo does not exist", src)
					}
					return err
				}
				task.Add(1)
				return nil
			})
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return 0, err
		}
	}
	if err := g.Wait(); err != nil {
		return 0, err
	}
	log.Info("photos copied", "photos", total, "prefix", cfg.LstPrefix)
	return total, nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// LoadPrepared reads the summary.json of a manifest step's output folder
// (uri is the folder, or a file in it such as its train.manifest): the
// contract the tune step trains from. It returns the folder too. A folder
// without one, or a summary that does not describe a dataset to train on
// (fewer than 2 classes, no training photo), is a fault.BadInput error;
// name is how the caller names the input in messages ("--train").
func LoadPrepared(ctx context.Context, st *storage.Storage, name, uri string) (*Prepared, string, error) {
	folder := uri
	if strings.HasSuffix(folder, ".manifest") || strings.HasSuffix(folder, ".lst") || strings.HasSuffix(folder, ".json") {
		folder = folder[:strings.LastIndexByte(folder, '/')+1]
	}
	raw, file, err := st.ReadInput(ctx, name, folder, FileSummary)
	if err != nil {
		return nil, "", err
	}
	var p Prepared
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, "", fault.BadInputf("%s %s: not the manifest step's summary.json: %v", name, clip.S(file), err)
	}
	if p.NumClasses < 2 || p.NumTrainingSamples < 1 {
		return nil, "", fault.BadInputf("%s: num_classes %d, num_training_samples %d: want at least 2 classes and 1 sample", clip.S(file), p.NumClasses, p.NumTrainingSamples)
	}
	return &p, strings.TrimSuffix(file, FileSummary), nil
}
