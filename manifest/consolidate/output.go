package consolidate

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/reviewlens/reviewlens/manifest"
)

// creationDateLayout is how Ground Truth writes creation-date.
const creationDateLayout = "2006-01-02T15:04:05.000000"

// labelAttributePattern is Ground Truth's rule for LabelAttributeName.
var labelAttributePattern = regexp.MustCompile(`^[a-zA-Z0-9](-*[a-zA-Z0-9])*$`)

// CheckLabelAttribute says what is wrong with a label attribute name, by
// Ground Truth's rules: 1 to 127 letters, digits and inner hyphens; not
// ending in -metadata or -ref; not source or source-ref.
func CheckLabelAttribute(name string) error {
	switch {
	case name == "":
		return errors.New("empty, want a label attribute name")
	case len(name) > 127 || !labelAttributePattern.MatchString(name):
		return fmt.Errorf("%q: want 1 to 127 letters, digits and inner hyphens (Ground Truth's LabelAttributeName)", name)
	case strings.HasSuffix(name, "-metadata"), strings.HasSuffix(name, "-ref"), name == "source":
		return fmt.Errorf("%q: may not be source or end in -metadata or -ref", name)
	}
	return nil
}

// ManifestOptions say how WriteManifest labels the lines.
type ManifestOptions struct {
	// LabelAttribute is the label attribute of every line. Required; see
	// CheckLabelAttribute.
	LabelAttribute string
	// JobName is the metadata job-name; "" means
	// "labeling-job/<LabelAttribute>".
	JobName string
	// Now gives the creation-date of a photo none of whose answers has a
	// time; nil means time.Now. A photo's creation-date is otherwise its
	// latest answer's time, so that a rerun writes the same manifest.
	Now func() time.Time
}

// WriteManifest writes the consolidated labels as a Ground Truth
// single-label image-classification output manifest: one line per photo,
// in source-ref order, that manifest.Reader and manifest.Convert read.
func WriteManifest(w io.Writer, res *Result, opts ManifestOptions) error {
	if err := CheckLabelAttribute(opts.LabelAttribute); err != nil {
		return fmt.Errorf("write manifest: label attribute %w", err)
	}
	job := opts.JobName
	if job == "" {
		job = "labeling-job/" + opts.LabelAttribute
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	var fallback string // now(), formatted once
	bw := bufio.NewWriterSize(w, 256<<10)
	d := res.d
	attr := appendJSONString(nil, opts.LabelAttribute)
	meta := appendJSONString(nil, opts.LabelAttribute+"-metadata")
	jobJSON := appendJSONString(nil, job)
	names := make([][]byte, res.Classes.Len())
	for c := range names {
		names[c] = appendJSONString(nil, res.Classes.Name(c))
	}
	var line []byte
	for i, photo := range res.Photos {
		latest := int64(noTime)
		for a := d.start[i]; a < d.start[i+1]; a++ {
			latest = max(latest, d.at[a])
		}
		line = append(line[:0], `{"source-ref":`...)
		line = appendJSONString(line, photo)
		line = append(line, ',')
		line = append(line, attr...)
		line = append(line, ':')
		line = strconv.AppendInt(line, int64(res.Label[i]), 10)
		line = append(line, ',')
		line = append(line, meta...)
		line = append(line, `:{"class-name":`...)
		line = append(line, names[res.Label[i]]...)
		line = append(line, `,"confidence":`...)
		line = appendConfidence(line, res.Confidence(i))
		line = append(line, `,"human-annotated":"yes","job-name":`...)
		line = append(line, jobJSON...)
		line = append(line, `,"creation-date":"`...)
		if latest != noTime {
			line = time.UnixMicro(latest).UTC().AppendFormat(line, creationDateLayout)
		} else {
			if fallback == "" {
				fallback = now().UTC().Format(creationDateLayout)
			}
			line = append(line, fallback...)
		}
		line = append(line, `","type":"`+manifest.TypeSingleLabel+`"}}`+"\n"...)
		if _, err := bw.Write(line); err != nil {
			return fmt.Errorf("write manifest: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	return nil
}

// appendConfidence writes p rounded to 6 decimals, the way JSON numbers
// read best (0.973412, 1, 0.5).
func appendConfidence(b []byte, p float64) []byte {
	return strconv.AppendFloat(b, math.Round(p*1e6)/1e6, 'f', -1, 64)
}

// appendJSONString appends s as a JSON string. s is valid UTF-8 (every
// input is checked); it is written as is, with quotes, backslashes and
// control characters escaped.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// Disagreements returns the photos whose chosen class has a posterior below
// minPosterior, lowest confidence first (then by source-ref), with every
// answer they got.
func (r *Result) Disagreements(minPosterior float64) []DisagreementRow {
	k := r.Classes.Len()
	d := r.d
	var rows []DisagreementRow
	for i, photo := range r.Photos {
		conf := r.Confidence(i)
		if !(conf < minPosterior) {
			continue
		}
		row := DisagreementRow{
			SourceRef:  photo,
			Label:      r.Label[i],
			ClassName:  r.Classes.Name(r.Label[i]),
			Confidence: conf,
			Posterior:  slices.Clone(r.Posterior[i*k : i*k+k]),
		}
		for a := d.start[i]; a < d.start[i+1]; a++ {
			row.Inspectors = append(row.Inspectors, d.inspectors[d.insp[a]])
			row.Answers = append(row.Answers, r.Classes.Name(int(d.label[a])))
		}
		rows = append(rows, row)
	}
	slices.SortStableFunc(rows, func(x, y DisagreementRow) int { return cmp.Compare(x.Confidence, y.Confidence) })
	return rows
}

// RunOptions are Options for Run: how to consolidate, how to write the
// manifest, and which photos are disagreements.
type RunOptions struct {
	Options
	ManifestOptions
	// MinPosterior puts the photos whose chosen class has a lower posterior
	// in the disagreements table; 0 means DefaultMinPosterior.
	MinPosterior float64
}

// DefaultMinPosterior is RunOptions.MinPosterior's default.
const DefaultMinPosterior = 0.9

// Outputs are where Run writes. Manifest is required; a nil writer skips
// that output.
type Outputs struct {
	Manifest      io.Writer // output.manifest
	Workers       io.Writer // workers.parquet
	Disagreements io.Writer // disagreements.parquet
	Rejected      io.Writer // rejected.jsonl: the superseded answers, one JSON object a line
}

// A Summary counts what Run did. It is the consolidate step's result JSON,
// less the outputs' names.
type Summary struct {
	Method     Method   `json:"method"`
	Classes    []string `json:"classes"`
	Photos     int      `json:"photos"`
	Answers    int      `json:"answers"`    // consolidated
	Superseded int      `json:"superseded"` // in rejected.jsonl: replaced by the same inspector's later answer
	Inspectors int      `json:"inspectors"`
	Iterations int      `json:"iterations"` // of EM; 0 for majority methods
	Converged  bool     `json:"converged"`
	// Disagreements counts the photos below MinPosterior: the rows of the
	// disagreements table.
	Disagreements int `json:"disagreements"`
	// MeanConfidence is the mean posterior of the chosen classes.
	MeanConfidence float64 `json:"mean_confidence"`
	// ByClass counts the photos labelled with each class.
	ByClass map[string]int `json:"by_class"`
	// InspectorAccuracy is each inspector's estimated accuracy.
	InspectorAccuracy map[string]float64 `json:"inspector_accuracy"`
	// TrustUnmatched lists the inspectors the trust names who answered
	// nothing here (a typo, or another team's inspector), sorted.
	TrustUnmatched []string `json:"trust_unmatched,omitempty"`
	// Result is the whole consolidation.
	Result *Result `json:"-"`
}

// Run consolidates the answers and writes the output manifest, the
// workers and disagreements tables and the rejected answers: the
// consolidate step without the files.
func Run(ctx context.Context, a *Answers, opts RunOptions, out Outputs) (*Summary, error) {
	if out.Manifest == nil {
		return nil, errors.New("consolidate: no writer for the output manifest")
	}
	if err := CheckLabelAttribute(opts.LabelAttribute); err != nil {
		return nil, fmt.Errorf("consolidate: label attribute %w", err)
	}
	minPost := opts.MinPosterior
	if minPost == 0 {
		minPost = DefaultMinPosterior
	}
	res, err := Consolidate(ctx, a, opts.Options)
	if err != nil {
		return nil, err
	}
	sum := &Summary{
		Method: res.Method, Classes: res.Classes.Names(), Photos: len(res.Photos), Answers: res.Answers,
		Superseded: len(res.Superseded), Inspectors: len(res.Workers), Iterations: res.Iterations, Converged: res.Converged,
		ByClass: map[string]int{}, InspectorAccuracy: map[string]float64{}, Result: res,
	}
	for i, l := range res.Label {
		sum.ByClass[res.Classes.Name(l)]++
		sum.MeanConfidence += res.Confidence(i)
	}
	sum.MeanConfidence /= float64(len(res.Label))
	for _, w := range res.Workers {
		sum.InspectorAccuracy[w.InspectorID] = w.Accuracy
	}
	for id := range opts.Trust {
		if _, ok := sum.InspectorAccuracy[id]; !ok {
			sum.TrustUnmatched = append(sum.TrustUnmatched, id)
		}
	}
	slices.Sort(sum.TrustUnmatched)
	if err := WriteManifest(out.Manifest, res, opts.ManifestOptions); err != nil {
		return nil, err
	}
	if out.Workers != nil {
		if err := WriteWorkers(out.Workers, res.Workers); err != nil {
			return nil, fmt.Errorf("write workers: %w", err)
		}
	}
	dis := res.Disagreements(minPost)
	sum.Disagreements = len(dis)
	if out.Disagreements != nil {
		if err := WriteDisagreements(out.Disagreements, dis); err != nil {
			return nil, fmt.Errorf("write disagreements: %w", err)
		}
	}
	if out.Rejected != nil {
		if err := writeRejected(out.Rejected, res); err != nil {
			return nil, fmt.Errorf("write rejected: %w", err)
		}
	}
	return sum, nil
}

// A RejectedAnswer is one line of rejected.jsonl.
type RejectedAnswer struct {
	File       string `json:"file"`
	Row        int    `json:"row"`
	Photo      string `json:"photo"`
	Inspector  string `json:"inspector"`
	Label      string `json:"label"`
	AnsweredAt string `json:"answered_at,omitempty"`
	Reason     string `json:"reason"`
}

func writeRejected(w io.Writer, res *Result) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, ans := range res.Superseded {
		r := RejectedAnswer{File: ans.File, Row: ans.Row, Photo: ans.Photo, Inspector: ans.Inspector, Label: ans.Label,
			Reason: "superseded: the same inspector answered the same photo again later; the later answer counts"}
		if !ans.At.IsZero() {
			r.AnsweredAt = ans.At.Format(time.RFC3339Nano)
		}
		if !utf8.ValidString(r.File) {
			r.File = strings.ToValidUTF8(r.File, "\uFFFD")
		}
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	return nil
}
