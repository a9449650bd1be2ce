package consolidate

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/sync/errgroup"

	"github.com/reviewlens/reviewlens/manifest"
)

// Folders of a Ground Truth labelling job's output folder.
const (
	DirWorkerResponses        = "annotations/worker-response"
	DirConsolidationRequests  = "annotations/consolidated-annotation/consolidation-request"
	iterationPrefix           = "iteration-"
	maxResponseBytes          = 16 << 20
	defaultResponsesReadAhead = 16
)

// A ResponseAnswer is one answer of a worker-response file.
type ResponseAnswer struct {
	WorkerID string // workerId
	Label    string // answerContent.<element>.label: a class name
	// Submitted is submissionTime (else acceptanceTime), in UTC; zero when
	// the response gives neither.
	Submitted time.Time
	// Path is the JSON path of the label, for errors:
	// "answers[0].answerContent.crowd-image-classifier.label".
	Path string
}

// ParseWorkerResponse reads one worker-response file (see the package
// doc). element names the template element to read; "" means the only
// element of each answer's answerContent. An error is an *InputError
// naming the JSON path at fault (its File is left for the caller).
func ParseWorkerResponse(data []byte, element string) ([]ResponseAnswer, error) {
	bad := func(field, format string, args ...any) error {
		return &InputError{Field: field, Reason: fmt.Sprintf(format, args...)}
	}
	if !utf8.Valid(data) {
		return nil, bad("", "not valid UTF-8")
	}
	if p, reason := checkJSON(data); reason != "" {
		return nil, bad(p, "%s", reason)
	}
	top, ok := object(data)
	if !ok {
		return nil, bad("", "got %s, want a JSON object with an \"answers\" array", jsonKind(data))
	}
	raw, ok := top["answers"]
	if !ok {
		return nil, bad("answers", "missing, want an array of answers")
	}
	var list []json.RawMessage
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '[' || json.Unmarshal(t, &list) != nil {
		return nil, bad("answers", "got %s, want an array of answers", jsonKind(raw))
	}
	out := make([]ResponseAnswer, 0, len(list))
	for i, rawAns := range list {
		at := fmt.Sprintf("answers[%d]", i)
		ans, ok := object(rawAns)
		if !ok {
			return nil, bad(at, "got %s, want an object", jsonKind(rawAns))
		}
		var ra ResponseAnswer
		v, ok := ans["workerId"]
		if !ok {
			return nil, bad(at+".workerId", "missing, want the worker's id")
		}
		if ra.WorkerID, ok = str(v); !ok || ra.WorkerID == "" {
			return nil, bad(at+".workerId", "got %s, want a non-empty string", jsonKind(v))
		}
		var times [2]time.Time
		for j, key := range []string{"submissionTime", "acceptanceTime"} {
			v, ok := ans[key]
			if !ok {
				continue
			}
			s, ok := str(v)
			if ok {
				times[j], ok = parseTime(s)
			}
			if !ok {
				return nil, bad(at+"."+key, "got %s, want a time like 2020-12-28T18:59:15.191Z", jsonKind(v))
			}
		}
		ra.Submitted = times[0]
		if ra.Submitted.IsZero() {
			ra.Submitted = times[1]
		}
		if v, ok := ans["timeSpentInSeconds"]; ok {
			if f, err := strconv.ParseFloat(string(bytes.TrimSpace(v)), 64); err != nil || f < 0 {
				return nil, bad(at+".timeSpentInSeconds", "got %s, want a number of seconds", jsonKind(v))
			}
		}
		v, ok = ans["answerContent"]
		if !ok {
			return nil, bad(at+".answerContent", "missing, want the answer")
		}
		content, ok := object(v)
		if !ok {
			return nil, bad(at+".answerContent", "got %s, want an object", jsonKind(v))
		}
		name := element
		if name == "" {
			if len(content) != 1 {
				keys := make([]string, 0, len(content))
				for k := range content {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				return nil, bad(at+".answerContent", "%d elements %s, want exactly one (or name the element to read)", len(content), quoteList(keys))
			}
			for k := range content {
				name = k
			}
		}
		field := at + ".answerContent." + name
		v, ok = content[name]
		if !ok {
			return nil, bad(field, "missing, want the answer of element %q", name)
		}
		el, ok := object(v)
		if !ok {
			return nil, bad(field, "got %s, want an object with a \"label\"", jsonKind(v))
		}
		if _, multi := el["labels"]; multi {
			return nil, &InputError{Field: field + ".labels", Reason: "a multi-select answer; only single-label classification (one \"label\") can be consolidated", Err: ErrMultiSelect}
		}
		v, ok = el["label"]
		if !ok {
			return nil, bad(field+".label", "missing, want the class name answered")
		}
		if ra.Label, ok = str(v); !ok || ra.Label == "" {
			return nil, bad(field+".label", "got %s, want a class name", jsonKind(v))
		}
		ra.Path = field + ".label"
		out = append(out, ra)
	}
	return out, nil
}

// ResponsesOptions say how ReadWorkerResponses reads a labelling job's
// output folder.
type ResponsesOptions struct {
	// Classes is the class list of the labelling job (its label-category
	// configuration). Required.
	Classes *manifest.ClassMap
	// InputManifest is the labelling job's input manifest. It maps a
	// datasetObjectId that no consolidation request names to its photo: id
	// N is the N-th (0-based) non-blank line. Nil means consolidation
	// requests only.
	InputManifest io.Reader
	// InputManifestName names the input manifest in errors.
	InputManifestName string
	// Element is the template element whose answers are read
	// ("crowd-image-classifier"). Empty means the only element of each
	// answer.
	Element string
	// Name names the folder in errors, e.g. its URI; file names follow it
	// after a '/'. Empty: the paths within the folder alone.
	Name string
	// ReadAhead is how many files are read at once (it pays on S3); 0
	// means 16.
	ReadAhead int
}

// responseFile is one worker-response file to read.
type responseFile struct {
	path     string // in the FS
	iter     int
	objectID string
}

// ReadWorkerResponses reads the answers in a Ground Truth labelling job's
// output folder: every annotations/worker-response/iteration-N/<id>/*.json
// file, each datasetObjectId mapped to its photo by the consolidation
// requests (annotations/consolidated-annotation/consolidation-request/
// iteration-N/*.json) or else by opts.InputManifest. Files are read in
// iteration, datasetObjectId and name order. The first malformed file is
// returned as an *InputError naming it and the JSON path at fault.
func ReadWorkerResponses(ctx context.Context, fsys fs.FS, opts ResponsesOptions) (*Answers, error) {
	if opts.Classes == nil {
		return nil, errors.New("read worker responses: no class list")
	}
	name := func(p string) string {
		if opts.Name == "" {
			return p
		}
		return strings.TrimSuffix(opts.Name, "/") + "/" + p
	}
	files, err := listResponses(fsys, name)
	if err != nil {
		return nil, err
	}
	photos, err := readRequests(ctx, fsys, name)
	if err != nil {
		return nil, err
	}
	var lines []string
	if opts.InputManifest != nil {
		if lines, err = readInputManifest(opts.InputManifest, opts.InputManifestName); err != nil {
			return nil, err
		}
		// In id order, so that the same conflict is named every time.
		ids := slices.SortedFunc(maps.Keys(photos), func(a, b string) int {
			na, ea := strconv.Atoi(a)
			nb, eb := strconv.Atoi(b)
			if ea == nil && eb == nil {
				return cmp.Compare(na, nb)
			}
			return strings.Compare(a, b)
		})
		for _, id := range ids {
			p := photos[id]
			n, err := strconv.Atoi(id)
			if err == nil && n >= 0 && n < len(lines) && lines[n] != p.uri {
				return nil, &InputError{File: p.file, Field: "datasetObjectId " + id, Reason: fmt.Sprintf("photo %q, but line %d of the input manifest %s is %q: is it the job's input manifest?", p.uri, n+1, opts.InputManifestName, lines[n])}
			}
		}
	}
	photoOf := func(f responseFile) (string, error) {
		if p, ok := photos[f.objectID]; ok {
			return p.uri, nil
		}
		dir := name(path.Dir(f.path)) + "/"
		if opts.InputManifest == nil {
			why := "no consolidation request names it"
			if len(photos) == 0 {
				why = "the folder has no consolidation requests (" + DirConsolidationRequests + "/)"
			}
			return "", &InputError{File: dir, Reason: fmt.Sprintf("datasetObjectId %s: %s, and no input manifest was given to map it to a photo by line", f.objectID, why), Err: ErrNoPhoto}
		}
		n, err := strconv.Atoi(f.objectID)
		if err != nil || n < 0 {
			return "", &InputError{File: dir, Reason: fmt.Sprintf("datasetObjectId %q is not a line index of the input manifest", f.objectID), Err: ErrNoPhoto}
		}
		if n >= len(lines) {
			return "", &InputError{File: dir, Reason: fmt.Sprintf("datasetObjectId %d, but the input manifest %s has %d lines: is it the job's input manifest?", n, opts.InputManifestName, len(lines)), Err: ErrNoPhoto}
		}
		return lines[n], nil
	}

	// Read and parse the files concurrently; add them in order, so that
	// the answers and the first error do not depend on timing.
	parsed := make([][]ResponseAnswer, len(files))
	errs := make([]error, len(files))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(cmpOr(opts.ReadAhead, defaultResponsesReadAhead))
	for i, f := range files {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			data, err := readFile(fsys, f.path)
			if err != nil {
				return fmt.Errorf("read %s: %w", name(f.path), err)
			}
			parsed[i], errs[i] = ParseWorkerResponse(data, opts.Element)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	a := NewAnswers(opts.Classes)
	for i, f := range files {
		file := name(f.path)
		if errs[i] != nil {
			var ie *InputError
			if errors.As(errs[i], &ie) {
				ie.File = file
			}
			return nil, errs[i]
		}
		if len(parsed[i]) == 0 {
			continue
		}
		photo, err := photoOf(f)
		if err != nil {
			return nil, err
		}
		for j, ra := range parsed[i] {
			at := int64(noTime)
			if !ra.Submitted.IsZero() {
				at = ra.Submitted.UnixMicro()
			}
			fieldNames := &fields{photo: "datasetObjectId " + f.objectID, inspector: fmt.Sprintf("answers[%d].workerId", j), label: ra.Path}
			if err := a.add(photo, ra.WorkerID, ra.Label, at, file, j+1, fieldNames); err != nil {
				var ie *InputError
				if errors.As(err, &ie) {
					ie.Row = 0 // a JSON file has no rows: the field is the path
				}
				return nil, err
			}
		}
	}
	return a, nil
}

func cmpOr(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// listResponses finds the worker-response files, in iteration,
// datasetObjectId and name order.
func listResponses(fsys fs.FS, name func(string) string) ([]responseFile, error) {
	iters, err := fs.ReadDir(fsys, DirWorkerResponses)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &InputError{File: name(DirWorkerResponses) + "/", Reason: "no such folder: want a Ground Truth labelling job's output folder, with worker responses under " + DirWorkerResponses + "/iteration-N/"}
		}
		return nil, fmt.Errorf("list %s: %w", name(DirWorkerResponses), err)
	}
	var files []responseFile
	for _, it := range iters {
		n, ok := iterationNumber(it.Name())
		itPath := path.Join(DirWorkerResponses, it.Name())
		if !ok || !it.IsDir() {
			return nil, &InputError{File: name(itPath), Reason: "unexpected: want only iteration-N folders here"}
		}
		objects, err := fs.ReadDir(fsys, itPath)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", name(itPath), err)
		}
		for _, obj := range objects {
			objPath := path.Join(itPath, obj.Name())
			if !obj.IsDir() {
				return nil, &InputError{File: name(objPath), Reason: "unexpected file: want one folder per datasetObjectId here"}
			}
			entries, err := fs.ReadDir(fsys, objPath)
			if err != nil {
				return nil, fmt.Errorf("list %s: %w", name(objPath), err)
			}
			for _, e := range entries {
				p := path.Join(objPath, e.Name())
				if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
					return nil, &InputError{File: name(p), Reason: "unexpected: want only <timestamp>.json worker-response files here"}
				}
				files = append(files, responseFile{path: p, iter: n, objectID: obj.Name()})
			}
		}
	}
	slices.SortStableFunc(files, func(x, y responseFile) int {
		if x.iter != y.iter {
			return x.iter - y.iter
		}
		if c := compareIDs(x.objectID, y.objectID); c != 0 {
			return c
		}
		return strings.Compare(x.path, y.path)
	})
	return files, nil
}

// compareIDs orders datasetObjectIds as numbers when both are, else as
// strings.
func compareIDs(x, y string) int {
	nx, errx := strconv.Atoi(x)
	ny, erry := strconv.Atoi(y)
	if errx == nil && erry == nil {
		return nx - ny
	}
	return strings.Compare(x, y)
}

func iterationNumber(name string) (int, bool) {
	s, ok := strings.CutPrefix(name, iterationPrefix)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 0
}

func readFile(fsys fs.FS, p string) ([]byte, error) {
	f, err := fsys.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxResponseBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxResponseBytes {
		return nil, fmt.Errorf("larger than %d MiB", maxResponseBytes>>20)
	}
	return data, nil
}

// requestPhoto is a photo named by a consolidation request.
type requestPhoto struct{ uri, file string }

// readRequests maps datasetObjectIds to photos from every consolidation
// request file. There may be none.
func readRequests(ctx context.Context, fsys fs.FS, name func(string) string) (map[string]requestPhoto, error) {
	photos := map[string]requestPhoto{}
	iters, err := fs.ReadDir(fsys, DirConsolidationRequests)
	if errors.Is(err, fs.ErrNotExist) {
		return photos, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", name(DirConsolidationRequests), err)
	}
	for _, it := range iters {
		itPath := path.Join(DirConsolidationRequests, it.Name())
		if _, ok := iterationNumber(it.Name()); !ok || !it.IsDir() {
			return nil, &InputError{File: name(itPath), Reason: "unexpected: want only iteration-N folders here"}
		}
		entries, err := fs.ReadDir(fsys, itPath)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", name(itPath), err)
		}
		for _, e := range entries {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			p := path.Join(itPath, e.Name())
			if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
				return nil, &InputError{File: name(p), Reason: "unexpected: want only <timestamp>.json consolidation requests here"}
			}
			data, err := readFile(fsys, p)
			if err != nil {
				return nil, fmt.Errorf("read %s: %w", name(p), err)
			}
			objs, err := ParseConsolidationRequest(data)
			if err != nil {
				var ie *InputError
				if errors.As(err, &ie) {
					ie.File = name(p)
				}
				return nil, err
			}
			for _, o := range objs {
				if prev, ok := photos[o.DatasetObjectID]; ok && prev.uri != o.Photo {
					return nil, &InputError{File: name(p), Field: o.Path, Reason: fmt.Sprintf("datasetObjectId %s is %q, but %q in %s", o.DatasetObjectID, o.Photo, prev.uri, prev.file)}
				}
				photos[o.DatasetObjectID] = requestPhoto{uri: o.Photo, file: name(p)}
			}
		}
	}
	return photos, nil
}

// A RequestObject is one data object of a consolidation request.
type RequestObject struct {
	DatasetObjectID string // as a string, even when the file gives a number
	Photo           string // dataObject.s3Uri
	Path            string // JSON path of the object, for errors: "[3]"
}

// ParseConsolidationRequest reads one consolidation-request file: a JSON
// array of {"datasetObjectId", "dataObject": {"s3Uri"}, "annotations"}
// objects, as Ground Truth hands them to an annotation-consolidation
// Lambda. Only the id and the photo are read. An error is an *InputError
// naming the JSON path at fault (its File is left for the caller).
func ParseConsolidationRequest(data []byte) ([]RequestObject, error) {
	bad := func(field, format string, args ...any) error {
		return &InputError{Field: field, Reason: fmt.Sprintf(format, args...)}
	}
	if !utf8.Valid(data) {
		return nil, bad("", "not valid UTF-8")
	}
	if p, reason := checkJSON(data); reason != "" {
		return nil, bad(p, "%s", reason)
	}
	var list []json.RawMessage
	if t := bytes.TrimSpace(data); len(t) == 0 || t[0] != '[' || json.Unmarshal(t, &list) != nil {
		return nil, bad("", "got %s, want a JSON array of data objects", jsonKind(data))
	}
	out := make([]RequestObject, 0, len(list))
	for i, raw := range list {
		at := fmt.Sprintf("[%d]", i)
		obj, ok := object(raw)
		if !ok {
			return nil, bad(at, "got %s, want an object", jsonKind(raw))
		}
		ro := RequestObject{Path: at}
		v, ok := obj["datasetObjectId"]
		if !ok {
			return nil, bad(at+".datasetObjectId", "missing")
		}
		if s, ok := str(v); ok && s != "" {
			ro.DatasetObjectID = s
		} else if n, err := strconv.ParseUint(string(bytes.TrimSpace(v)), 10, 63); err == nil {
			ro.DatasetObjectID = strconv.FormatUint(n, 10)
		} else {
			return nil, bad(at+".datasetObjectId", "got %s, want a string or a whole number", jsonKind(v))
		}
		v, ok = obj["dataObject"]
		if !ok {
			return nil, bad(at+".dataObject", "missing")
		}
		do, ok := object(v)
		if !ok {
			return nil, bad(at+".dataObject", "got %s, want an object with an s3Uri", jsonKind(v))
		}
		v, ok = do["s3Uri"]
		if !ok {
			if _, text := do["content"]; text {
				return nil, bad(at+".dataObject", "holds content (text), want an s3Uri: only image classification is consolidated")
			}
			return nil, bad(at+".dataObject.s3Uri", "missing")
		}
		if ro.Photo, ok = str(v); !ok {
			return nil, bad(at+".dataObject.s3Uri", "got %s, want an s3://bucket/key URI", jsonKind(v))
		}
		if reason := checkPhotoURI(ro.Photo); reason != "" {
			return nil, bad(at+".dataObject.s3Uri", "%s", reason)
		}
		out = append(out, ro)
	}
	return out, nil
}

// readInputManifest returns the source-ref of each non-blank line of an
// input manifest.
func readInputManifest(r io.Reader, name string) ([]string, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var refs []string
	for lineNo := 1; ; lineNo++ {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A long line: gather it whole.
			buf := append([]byte(nil), line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = br.ReadSlice('\n')
				buf = append(buf, line...)
			}
			line = buf
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		if lineNo == 1 {
			line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf"))
		}
		if t := bytes.TrimSpace(line); len(t) > 0 {
			bad := func(field, format string, args ...any) error {
				return &InputError{File: name, Line: lineNo, Field: field, Reason: fmt.Sprintf(format, args...)}
			}
			if !utf8.Valid(t) {
				return nil, bad("", "not valid UTF-8")
			}
			obj, ok := object(t)
			if !ok {
				return nil, bad("", "got %s, want a JSON object", jsonKind(t))
			}
			v, ok := obj["source-ref"]
			if !ok {
				return nil, bad("source-ref", "missing")
			}
			src, ok := str(v)
			if !ok {
				return nil, bad("source-ref", "got %s, want a string", jsonKind(v))
			}
			if reason := checkPhotoURI(src); reason != "" {
				return nil, bad("source-ref", "%s", reason)
			}
			refs = append(refs, src)
		}
		if err != nil {
			return refs, nil
		}
	}
}
