package inspect

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/reviewlens/reviewlens/fault"
	"github.com/reviewlens/reviewlens/internal/clip"
	"github.com/reviewlens/reviewlens/manifest"
	"github.com/reviewlens/reviewlens/progress"
	"github.com/reviewlens/reviewlens/storage"
)

// Output file names in the --out folder.
const (
	FileStaged            = "staged.parquet"
	FileTransformManifest = "input.manifest"
	FileRejected          = "rejected.jsonl"
	FileSummary           = "summary.json"
)

// Reasons a photo is not staged, as rejected.jsonl and StageResult count them.
const (
	ReasonBadRow      = "bad_row"          // a value of the reviews file cannot be used
	ReasonDuplicate   = "duplicate"        // the row repeats an earlier (review_id, image_index)
	ReasonMissing     = "missing"          // no such object or file
	ReasonEmpty       = "empty"            // zero bytes
	ReasonTooLarge    = "too_large"        // above --max-payload-mb
	ReasonUnsupported = "unsupported_type" // not JPEG or PNG
)

// Defaults of StageOptions's zero values.
const (
	DefaultMaxPayloadMB     = 6 // the transform job's MaxPayloadInMB default
	DefaultStageConcurrency = 32
)

// bytesPerMB is how --max-payload-mb is counted: SageMaker does not say
// whether its MB is 10^6 or 2^20 bytes, and 10^6 is the safer reading (a
// photo refused here is listed; one too large for the job fails it).
const bytesPerMB = 1_000_000

// StageOptions is the stage step's input.
type StageOptions struct {
	Reviews string // the day's reviews, Parquet or CSV, a URI
	Day     string // the inspection day, YYYY-MM-DD
	Out     string // the output folder, a URI
	// InputPrefix is where photos are copied when they must be:
	// <InputPrefix>/dt=<Day>/. Needed with Copy, or when the photos share
	// no prefix.
	InputPrefix string
	Copy        bool   // copy every photo, even when they share a prefix
	OnBadRow    string // "fail" (default) or "skip"
	// AllowEmpty accepts a reviews file with no rows: the step then
	// writes an empty staging (no transform to run) instead of failing.
	AllowEmpty bool
	// MaxPayloadMB is the transform job's MaxPayloadInMB (1–100; 0 means
	// 6): a larger photo is refused.
	MaxPayloadMB int
	Concurrency  int // concurrent HEADs and copies; 0 means 32
	// Progress shows the checks and copies as they go; nil means a log
	// line every 30 s.
	Progress progress.Meter
	Logger   *slog.Logger
}

// StageResult is the step's result JSON, also written to summary.json.
type StageResult struct {
	Day     string            `json:"day"`
	Outputs map[string]string `json:"outputs"` // staged, manifest, rejected, summary
	// ManifestURI is the ManifestFile for the transform job's S3Uri (with
	// S3DataType ManifestFile), and ManifestPrefix the prefix it gives.
	ManifestURI    string `json:"manifest_uri"`
	ManifestPrefix string `json:"manifest_prefix"`
	StagedURI      string `json:"staged_uri"`

	Reviews int `json:"reviews"` // distinct review IDs in the file
	Photos  int `json:"photos"`  // data rows, one a photo: staged + rejected
	Staged  int `json:"staged"`  // rows of staged.parquet
	// ManifestKeys is the number of inputs of the transform job: fewer
	// than Staged when reviews share a photo.
	ManifestKeys int `json:"manifest_keys"`
	// ReviewsWithoutPhoto counts reviews none of whose photos was staged;
	// their photos are all in rejected.jsonl.
	ReviewsWithoutPhoto int            `json:"reviews_without_photo"`
	Rejected            int            `json:"rejected"`
	RejectedByReason    map[string]int `json:"rejected_by_reason"`
	Copied              int            `json:"copied"` // photos copied under the input prefix
	Bytes               int64          `json:"bytes"`  // total size of the job's inputs
	MaxPayloadMB        int            `json:"max_payload_mb"`
	ElapsedSeconds      float64        `json:"elapsed_seconds"`
}

// StageRejection is one line of rejected.jsonl: a photo that is not staged.
type StageRejection struct {
	ReviewID   string `json:"review_id"`
	ImageIndex *int   `json:"image_index"` // null when the row's value could not be read
	ImageURI   string `json:"image_uri"`
	Reason     string `json:"reason"` // one of the Reason constants
	Detail     string `json:"detail"` // for people
	Row        int    `json:"row,omitempty"`
	Column     string `json:"column,omitempty"`
}

// maxStageListed is how many bad rows or photos --on-bad-row fail lists.
const maxStageListed = 20

// Stage is the stage step: it reads the day's reviews, checks every photo
// before anything is submitted to SageMaker, and writes the inputs of the
// day's Batch Transform job into opts.Out: staged.parquet (the photos that
// passed, and where the job reads each and leaves its output),
// input.manifest (a ManifestFile listing them), rejected.jsonl (every photo
// not staged, with its reason) and summary.json, the result, last: a
// folder with a summary.json is complete.
//
// Photos are checked with one HEAD each, concurrently: they must exist, be
// no larger than the job's MaxPayloadInMB, and be JPEG or PNG (the rule of
// manifest.PhotoType). When the photos that passed share a prefix, the
// ManifestFile lists them where they are; when they do not (different
// buckets), or with Copy, each is copied (server-side between S3 buckets)
// to <InputPrefix>/dt=<day>/<review_id>/<image_index><ext> and listed
// there. Errors a retry will not fix are fault.BadInput.
func Stage(ctx context.Context, store *storage.Storage, cfg StageOptions) (*StageResult, error) {
	start := time.Now()
	if err := cfg.check(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	log.Info("reading reviews", "reviews", cfg.Reviews, "day", cfg.Day)
	reviews, bad, err := LoadReviews(ctx, store, "--reviews", cfg.Reviews)
	if err != nil {
		return nil, err
	}
	if len(reviews)+len(bad) == 0 {
		if !cfg.AllowEmpty {
			return nil, fault.BadInputf("--reviews %s: no rows: a day with no reviews? (--allow-empty accepts it)", clip.S(cfg.Reviews))
		}
		log.Warn("no reviews: nothing to stage", "reviews", cfg.Reviews)
	}
	if len(bad) > 0 && cfg.OnBadRow != "skip" {
		return nil, badRowsError(bad, cfg)
	}
	slices.SortFunc(reviews, func(a, b Review) int {
		return cmp.Or(strings.Compare(a.ReviewID, b.ReviewID), cmp.Compare(a.ImageIndex, b.ImageIndex))
	})

	photos, err := checkPhotos(ctx, store, reviews, cfg, log)
	if err != nil {
		return nil, err
	}
	var rejected []StageRejection
	for _, e := range bad {
		rejected = append(rejected, rowRejected(e))
	}
	var failed []StageRejection
	for _, p := range photos {
		if p.reason != "" {
			failed = append(failed, p.rejected())
		}
	}
	if len(failed) > 0 && cfg.OnBadRow != "skip" {
		return nil, badPhotosError(failed, cfg)
	}
	rejected = append(rejected, failed...)

	st, err := stage(ctx, store, photos, cfg, log)
	if err != nil {
		return nil, err
	}
	res := newResult(cfg, reviews, bad, rejected, st)
	if len(st.rows) == 0 && !(cfg.AllowEmpty && len(reviews)+len(bad) == 0) {
		return nil, fault.BadInputf("%s: no photo to transform (%d rows, %d rejected: %s)", cfg.Reviews, res.Photos, res.Rejected, reasonList(res.RejectedByReason))
	}
	if len(rejected) > 0 {
		log.Warn("photos not staged", "rejected", len(rejected), "by_reason", res.RejectedByReason, "file", res.Outputs["rejected"])
	}
	res.ElapsedSeconds = time.Since(start).Seconds()
	if err := publish(ctx, store, cfg.Out, st, rejected, res); err != nil {
		return nil, err
	}
	log.Info("stage done", "staged", res.Staged, "rejected", res.Rejected, "copied", res.Copied,
		"manifest", res.ManifestURI, "prefix", res.ManifestPrefix)
	return res, nil
}

func (cfg *StageOptions) check() error {
	if cfg.MaxPayloadMB == 0 {
		cfg.MaxPayloadMB = DefaultMaxPayloadMB
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultStageConcurrency
	}
	switch {
	case cfg.Reviews == "":
		return fault.BadInputf("--reviews: no reviews file given")
	case cfg.Day == "":
		return fault.BadInputf("--day: no day given, want YYYY-MM-DD")
	case cfg.OnBadRow != "" && cfg.OnBadRow != "fail" && cfg.OnBadRow != "skip":
		return fault.BadInputf("--on-bad-row %s: want fail or skip", clip.Q(cfg.OnBadRow))
	case cfg.MaxPayloadMB < 1 || cfg.MaxPayloadMB > 100:
		// 0 is SageMaker's chunked encoding, which built-in algorithms
		// do not support.
		return fault.BadInputf("--max-payload-mb %d: want 1 to 100 (SageMaker's MaxPayloadInMB)", cfg.MaxPayloadMB)
	case cfg.Copy && cfg.InputPrefix == "":
		return fault.BadInputf("--copy: give --input-prefix, where the photos are copied")
	}
	if d, err := time.Parse(time.DateOnly, cfg.Day); err != nil || d.Format(time.DateOnly) != cfg.Day {
		return fault.BadInputf("--day %s: want a date YYYY-MM-DD", clip.Q(cfg.Day))
	}
	if err := storage.CheckOutFolder("--out", cfg.Out); err != nil {
		return err
	}
	for _, f := range []struct{ flag, uri string }{{"--reviews", cfg.Reviews}, {"--out", cfg.Out}, {"--input-prefix", cfg.InputPrefix}} {
		if strings.Contains(f.uri, "://") && !storage.IsS3(f.uri) && !strings.HasPrefix(f.uri, "file://") {
			return fault.BadInputf("%s %s: want an s3:// URI or a local path", f.flag, f.uri)
		}
	}
	return nil
}

func rowRejected(e *RowError) StageRejection {
	r := StageRejection{ReviewID: e.Review.ReviewID, ImageURI: e.Review.ImageURI, Reason: ReasonBadRow,
		Detail: e.Error(), Row: e.Row, Column: e.Column}
	if e.Duplicate {
		r.Reason = ReasonDuplicate
	}
	if i := e.Review.ImageIndex; i >= 0 {
		r.ImageIndex = &i
	}
	return r
}

func badRowsError(bad []*RowError, cfg StageOptions) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d bad %s", cfg.Reviews, len(bad), pluralOf(len(bad), "row"))
	for i, e := range bad {
		if i == maxStageListed {
			fmt.Fprintf(&b, "\n  ... and %d more", len(bad)-maxStageListed)
			break
		}
		b.WriteString("\n  ")
		b.WriteString(e.Error())
	}
	fmt.Fprintf(&b, "\n(rerun with --on-bad-row skip to write them to %s and go on)", storage.Join(cfg.Out, FileRejected))
	return fault.New(fault.BadInput, errors.New(b.String()))
}

func badPhotosError(failed []StageRejection, cfg StageOptions) error {
	var b strings.Builder
	if len(failed) == 1 {
		b.WriteString("1 photo failed its checks")
	} else {
		fmt.Fprintf(&b, "%d photos failed their checks", len(failed))
	}
	for i, r := range failed {
		if i == maxStageListed {
			fmt.Fprintf(&b, "\n  ... and %d more", len(failed)-maxStageListed)
			break
		}
		fmt.Fprintf(&b, "\n  review %s photo %d (%s): %s: %s", clip.S(r.ReviewID), *r.ImageIndex, clip.S(r.ImageURI), r.Reason, r.Detail)
	}
	fmt.Fprintf(&b, "\n(rerun with --on-bad-row skip to write them to %s and go on)", storage.Join(cfg.Out, FileRejected))
	return fault.New(fault.BadInput, errors.New(b.String()))
}

func pluralOf(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// photo is a review photo and what its check found.
type photo struct {
	review      Review
	uri         string // the photo to read: ImageURI, made absolute when it is a relative path
	size        int64
	contentType string // image/jpeg or image/png
	ext         string // the file extension a copy gets
	reason      string // why the photo is refused; "" when it passed
	detail      string
}

func (p *photo) rejected() StageRejection {
	i := p.review.ImageIndex
	return StageRejection{ReviewID: p.review.ReviewID, ImageIndex: &i, ImageURI: p.review.ImageURI, Reason: p.reason, Detail: p.detail}
}

// checkPhotos checks every photo, HEAD by HEAD, concurrently.
func checkPhotos(ctx context.Context, store *storage.Storage, reviews []Review, cfg StageOptions, log *slog.Logger) ([]photo, error) {
	photos := make([]photo, len(reviews))
	for i, r := range reviews {
		photos[i] = photo{review: r, uri: r.ImageURI}
		if !storage.IsS3(r.ImageURI) && !filepath.IsAbs(r.ImageURI) {
			abs, err := filepath.Abs(r.ImageURI)
			if err != nil {
				return nil, err
			}
			photos[i].uri = abs
		}
	}
	log.Info("checking photos", "photos", len(photos), "max_payload_mb", cfg.MaxPayloadMB)
	task := progress.Or(cfg.Progress, log).Start("checking photos", len(photos))
	defer task.Done()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(cfg.Concurrency)
	maxBytes := int64(cfg.MaxPayloadMB) * bytesPerMB
	for i := range photos {
		g.Go(func() error {
			defer task.Add(1)
			return checkPhoto(gctx, store, &photos[i], maxBytes, cfg.MaxPayloadMB)
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return photos, nil
}

// photoExts is the extension a copy of a photo gets when its own says
// nothing.
var photoExts = map[string]string{manifest.ContentTypeJPEG: ".jpg", manifest.ContentTypePNG: ".png"}

// checkPhoto fills in p. It returns an error only when the check itself
// failed (access denied, the network): a photo that fails is p.reason.
func checkPhoto(ctx context.Context, store *storage.Storage, p *photo, maxBytes int64, maxMB int) error {
	obj, err := store.Stat(ctx, p.uri)
	switch {
	case errors.Is(err, storage.ErrNotExist):
		p.reason, p.detail = ReasonMissing, "no such object"
		if !storage.IsS3(p.uri) {
			p.detail = "no such file"
		}
		return nil
	case err != nil:
		return fmt.Errorf("check review %s photo %d: %w", p.review.ReviewID, p.review.ImageIndex, err)
	}
	p.size = obj.Size
	switch {
	case obj.Size == 0:
		p.reason, p.detail = ReasonEmpty, "0 bytes"
		return nil
	case obj.Size > maxBytes:
		p.reason, p.detail = ReasonTooLarge, fmt.Sprintf("%d bytes, above --max-payload-mb %d (%d bytes): the transform job would fail on it", obj.Size, maxMB, maxBytes)
		return nil
	}
	// One rule with the manifest step (manifest.PhotoType): the extension
	// decides, and when it says nothing the first bytes do.
	ct, reason := manifest.PhotoType(p.uri, nil)
	if !manifest.PhotoExtDecides(p.uri) {
		head, err := sniff(ctx, store, p.uri)
		switch {
		case errors.Is(err, storage.ErrNotExist):
			p.reason, p.detail = ReasonMissing, "deleted while checked"
			return nil
		case err != nil:
			return fmt.Errorf("check review %s photo %d: %w", clip.S(p.review.ReviewID), p.review.ImageIndex, err)
		}
		ct, reason = manifest.PhotoType(p.uri, head)
	}
	if ct == "" {
		p.reason, p.detail = ReasonUnsupported, reason
		return nil
	}
	p.contentType, p.ext = ct, strings.ToLower(path.Ext(p.uri))
	if ext, ok := photoExts[ct]; ok && p.ext != ".jpg" && p.ext != ".jpeg" && p.ext != ".png" {
		p.ext = ext
	}
	return nil
}

// sniff reads the first bytes of an object.
func sniff(ctx context.Context, store *storage.Storage, uri string) ([]byte, error) {
	rc, err := store.Open(ctx, uri)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	head := make([]byte, 16)
	n, err := io.ReadFull(rc, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read %s: %w", clip.S(uri), err)
	}
	return head[:n], nil
}

// staging is what the stage step writes.
type staging struct {
	rows   []Staged
	prefix string   // the ManifestFile's prefix
	keys   []string // its keys, each once, in row order
	bytes  int64    // their total size
	copied int
}

// stage places the photos that passed: where they are when they share a
// prefix, else (or with --copy) copies under the input prefix.
func stage(ctx context.Context, store *storage.Storage, photos []photo, cfg StageOptions, log *slog.Logger) (*staging, error) {
	var ok []*photo
	var uris []string
	for i := range photos {
		if photos[i].reason == "" {
			ok = append(ok, &photos[i])
			uris = append(uris, photos[i].uri)
		}
	}
	st := &staging{}
	if len(ok) == 0 {
		return st, nil
	}
	prefix, shared := CommonPrefix(uris)
	inputs := uris // what the job reads, by photo
	switch {
	case shared && !cfg.Copy:
		log.Info("photos share a prefix: no copy", "prefix", prefix)
	case cfg.InputPrefix == "":
		return nil, fault.BadInputf("the photos share no prefix (%s): give --input-prefix to copy them under one", sharedNot(uris))
	default:
		if !shared {
			log.Info("photos share no prefix: copying them", "roots", sharedNot(uris))
		}
		var err error
		prefix, inputs, err = copyPhotos(ctx, store, ok, cfg, log)
		if err != nil {
			return nil, err
		}
		st.copied = len(ok)
	}
	st.prefix = prefix
	seen := map[string]bool{}
	for i, p := range ok {
		key := strings.TrimPrefix(inputs[i], prefix)
		if !seen[key] {
			seen[key] = true
			st.keys = append(st.keys, key)
			st.bytes += p.size
		}
		r := p.review
		st.rows = append(st.rows, Staged{
			ReviewID: r.ReviewID, ReviewType: r.ReviewType, ImageIndex: r.ImageIndex, ImageURI: r.ImageURI,
			InputURI: inputs[i], InputKey: key, OutputKey: key + OutputSuffix,
			SizeBytes: p.size, ContentType: p.contentType,
			UserID: r.UserID, ProductID: r.ProductID, CreatedAt: r.CreatedAt, Day: cfg.Day,
		})
	}
	if n := len(st.rows) - len(st.keys); n > 0 {
		log.Warn("reviews share photos; each is transformed once", "rows", len(st.rows), "photos", len(st.keys))
	}
	return st, nil
}

// sharedNot says why photos share no prefix, for the error message.
func sharedNot(uris []string) string {
	var roots []string
	for _, u := range uris {
		root := "local files"
		if storage.IsS3(u) {
			b, _, _ := storage.ParseS3(u)
			root = "s3://" + b
		}
		if !slices.Contains(roots, root) {
			roots = append(roots, root)
		}
	}
	slices.Sort(roots)
	if len(roots) > 4 {
		roots = append(roots[:4], "...")
	}
	return strings.Join(roots, ", ")
}

// copyPhotos copies each photo to <input-prefix>/dt=<day>/<review_id>/
// <image_index><ext>, concurrently, and returns the prefix and the copies'
// URIs. Copies between S3 URIs are server-side; repeating one rewrites the
// same object.
func copyPhotos(ctx context.Context, store *storage.Storage, photos []*photo, cfg StageOptions, log *slog.Logger) (string, []string, error) {
	base := cfg.InputPrefix
	if !storage.IsS3(base) && !strings.HasPrefix(base, "file://") {
		abs, err := filepath.Abs(base)
		if err != nil {
			return "", nil, err
		}
		base = abs
	}
	dir := storage.Join(base, "dt="+cfg.Day)
	prefix := strings.TrimSuffix(dir, "/") + "/"
	dsts := make([]string, len(photos))
	for i, p := range photos {
		dsts[i] = prefix + p.review.ReviewID + "/" + strconv.Itoa(p.review.ImageIndex) + p.ext
	}
	log.Info("copying photos", "photos", len(photos), "prefix", prefix)
	task := progress.Or(cfg.Progress, log).Start("copying photos", len(photos))
	defer task.Done()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(cfg.Concurrency)
	for i, p := range photos {
		g.Go(func() error {
			defer task.Add(1)
			if err := store.Copy(gctx, dsts[i], p.uri); err != nil {
				if errors.Is(err, storage.ErrNotExist) {
					return fault.BadInputf("copy review %s photo %d: %s is gone since it was checked", p.review.ReviewID, p.review.ImageIndex, p.uri)
				}
				return err
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return "", nil, err
	}
	log.Info("photos copied", "photos", len(photos), "prefix", prefix)
	return prefix, dsts, nil
}

func newResult(cfg StageOptions, reviews []Review, bad []*RowError, rejected []StageRejection, st *staging) *StageResult {
	ids := map[string]bool{}
	for _, r := range reviews {
		ids[r.ReviewID] = true
	}
	for _, e := range bad {
		if e.Review.ReviewID != "" {
			ids[e.Review.ReviewID] = true
		}
	}
	stagedIDs := map[string]bool{}
	for _, s := range st.rows {
		stagedIDs[s.ReviewID] = true
	}
	byReason := map[string]int{}
	for _, r := range rejected {
		byReason[r.Reason]++
	}
	res := &StageResult{
		Day:                 cfg.Day,
		Outputs:             map[string]string{},
		ManifestURI:         storage.Join(cfg.Out, FileTransformManifest),
		ManifestPrefix:      st.prefix,
		StagedURI:           storage.Join(cfg.Out, FileStaged),
		Reviews:             len(ids),
		Photos:              len(reviews) + len(bad),
		Staged:              len(st.rows),
		ManifestKeys:        len(st.keys),
		ReviewsWithoutPhoto: len(ids) - len(stagedIDs),
		Rejected:            len(rejected),
		RejectedByReason:    byReason,
		Copied:              st.copied,
		Bytes:               st.bytes,
		MaxPayloadMB:        cfg.MaxPayloadMB,
	}
	for key, name := range map[string]string{"staged": FileStaged, "manifest": FileTransformManifest, "rejected": FileRejected, "summary": FileSummary} {
		res.Outputs[key] = storage.Join(cfg.Out, name)
	}
	if len(st.keys) == 0 {
		res.ManifestURI = "" // an empty day: no transform to run
		delete(res.Outputs, "manifest")
	}
	return res
}

func reasonList(byReason map[string]int) string {
	var parts []string
	for _, r := range []string{ReasonBadRow, ReasonDuplicate, ReasonMissing, ReasonEmpty, ReasonTooLarge, ReasonUnsupported} {
		if n := byReason[r]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, r))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// publish writes the outputs into --out. Each appears whole (storage.Put is
// atomic); a summary.json from an earlier run is removed first and the new
// one written last, so that a folder with a summary.json is complete.
func publish(ctx context.Context, store *storage.Storage, out string, st *staging, rejected []StageRejection, res *StageResult) error {
	var staged, manifest, rej, summary bytes.Buffer
	if err := WriteStaged(&staged, st.rows); err != nil {
		return err
	}
	files := []string{FileStaged, FileTransformManifest, FileRejected, FileSummary}
	if len(st.keys) == 0 {
		// An empty day (--allow-empty): no job to run, so no manifest.
		files = []string{FileStaged, FileRejected, FileSummary}
		if err := store.Delete(ctx, storage.Join(out, FileTransformManifest)); err != nil {
			return err
		}
	} else if err := WriteTransformManifest(&manifest, st.prefix, st.keys); err != nil {
		return err
	}
	enc := json.NewEncoder(&rej)
	enc.SetEscapeHTML(false)
	for _, r := range rejected {
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	enc = json.NewEncoder(&summary)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(res); err != nil {
		return err
	}
	if err := store.Delete(ctx, storage.Join(out, FileSummary)); err != nil {
		return err
	}
	data := map[string]*bytes.Buffer{FileStaged: &staged, FileTransformManifest: &manifest, FileRejected: &rej, FileSummary: &summary}
	for _, name := range files {
		if err := store.WriteFile(ctx, storage.Join(out, name), data[name].Bytes()); err != nil {
			return err
		}
	}
	return nil
}
