package manifest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"strings"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/reviewlens/reviewlens/table"
)

// ConvertOptions choose what Convert keeps and how it splits.
type ConvertOptions struct {
	Options
	// ValidationFraction is the share of photos put in the validation
	// split, in [0, 1). Zero puts every photo in train.
	ValidationFraction float64
	// Seed changes which photos land in validation; the same seed always
	// gives the same split.
	Seed int64
	// LstPath maps a photo's source-ref to its path in a .lst file,
	// relative to the channel prefix. Required when a .lst output is set.
	LstPath func(sourceRef string) string
	// MaxBad, when above zero, stops Convert with a *BadLinesError once it
	// has seen that many invalid, duplicate or conflicting lines. Zero reads to the end
	// and reports bad lines only through Outputs.Rejected and the Summary.
	MaxBad int
	// Workers parse lines in parallel; 0 means GOMAXPROCS.
	Workers int
	// SizeHint is the manifest's size in bytes, when known. It sizes the
	// table of source-refs once, from the line length of the first lines,
	// instead of growing it.
	SizeHint int64
}

// Outputs are where Convert writes. Labels is required; a nil writer skips
// that output.
type Outputs struct {
	Labels        io.Writer // labels.parquet
	Train         io.Writer // train.manifest (augmented manifest)
	Validation    io.Writer // validation.manifest
	TrainLst      io.Writer // train.lst
	ValidationLst io.Writer // validation.lst
	Rejected      io.Writer // rejected.jsonl: every line not used, with its reason
}

// A Summary counts what Convert did with every line.
type Summary struct {
	Attribute  string    // the label attribute read
	MultiLabel bool      // some photo has a multi-label attribute
	Classes    *ClassMap // given or learned
	Lines      int       // non-blank lines
	Blank      int       // blank lines skipped
	BOM        bool      // the manifest started with a byte-order mark
	Train      int       // photos in train
	Validation int       // photos in validation
	// TrainByClass and ValidationByClass count photos per class index (a
	// multi-label photo counts once for each of its classes).
	TrainByClass      []int
	ValidationByClass []int
	Invalid           int // lines rejected as invalid
	Unlabelled        int
	Duplicate         int
	Filtered          int
	// Conflicting counts lines of photos that lines label differently:
	// all their lines are rejected.
	Conflicting int
	// LenientConfidence counts lines whose confidence was a string.
	LenientConfidence int
	// FirstBad holds the first invalid or duplicate lines, at most 20.
	FirstBad []*LineError
}

// Rejected reports the lines not used, of any kind.
func (s *Summary) Rejected() int {
	return s.Invalid + s.Unlabelled + s.Duplicate + s.Filtered + s.Conflicting
}

// BadLinesError is returned by Convert when ConvertOptions.MaxBad is set and
// bad lines were found.
type BadLinesError struct {
	Lines []*LineError // the first bad lines, in line order
	More  bool         // reading stopped before the end
}

func (e *BadLinesError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d bad line", len(e.Lines))
	if len(e.Lines) != 1 {
		b.WriteString("s")
	}
	if e.More {
		b.WriteString(" (stopped there)")
	}
	for _, l := range e.Lines {
		b.WriteString("\n  ")
		b.WriteString(l.Error())
	}
	return b.String()
}

// chunkBytes is the size of the runs of whole lines handed to a parser at
// once; tests make it small to cut lines at every place.
var chunkBytes = 512 << 10

const (
	batchRows = 64 << 10 // rows per Parquet row group
	maxListed = 20       // bad lines kept in Summary.FirstBad
)

// Convert reads a whole manifest and writes the labels table, the augmented
// manifests, the .lst files and the rejected lines. Lines are parsed on
// every core and written in line order; memory stays bounded whatever the
// size of the manifest.
//
// A photo that two lines label differently is a conflict: every line of it
// is rejected (kind conflict), while a photo repeated with the same label
// keeps its first line (kind duplicate). When a conflict is found after the
// photo's first line was written, Convert returns a *ConflictError with the
// Summary: the outputs hold that line and must be discarded, and a second
// Convert of the same manifest with Options.Conflicts set writes them
// without it. With MaxBad set, a conflict is a bad line like any other.
func Convert(ctx context.Context, r io.Reader, opts ConvertOptions, out Outputs) (*Summary, error) {
	if out.Labels == nil {
		return nil, errors.New("convert: no labels output")
	}
	if (out.TrainLst != nil || out.ValidationLst != nil) && opts.LstPath == nil {
		return nil, errors.New("convert: a .lst output needs ConvertOptions.LstPath")
	}
	if f := opts.ValidationFraction; !(f >= 0 && f < 1) {
		return nil, fmt.Errorf("convert: validation fraction %g, want [0, 1)", f)
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	c := &converter{
		opts: opts, out: out, chk: newChecker(opts.Options),
		free: make(chan *chunk, 2*workers+2),
		sum:  &Summary{},
	}
	for range cap(c.free) {
		c.free <- &chunk{}
	}
	c.lst = out.TrainLst != nil || out.ValidationLst != nil
	if opts.LabelAttribute != "" {
		c.setAttribute(opts.LabelAttribute)
	}
	g, ctx := errgroup.WithContext(ctx)
	read := make(chan *chunk, 1)
	parse := make(chan *chunk, workers)
	parsed := make(chan *chunk, workers)
	checked := make(chan *chunk, 2)
	g.Go(func() error { defer close(read); return c.read(ctx, r, read) })
	g.Go(func() error { defer close(parse); return c.dispatch(ctx, read, parse) })
	var nparse atomic.Int32
	nparse.Store(int32(workers))
	for range workers {
		g.Go(func() error {
			defer func() {
				if nparse.Add(-1) == 0 {
					close(parsed)
				}
			}()
			return c.parse(ctx, parse, parsed)
		})
	}
	g.Go(func() error { defer close(checked); return c.sequence(ctx, parsed, checked) })
	g.Go(func() error { return c.write(ctx, checked) })
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return c.finish()
}

type converter struct {
	opts          ConvertOptions
	out           Outputs
	chk           *checker
	attr          string
	attrB, mattrB []byte
	attrJSON      []byte
	detected      atomic.Bool
	free          chan *chunk
	sum           *Summary
	lst           bool // .lst outputs are written
	// firstLabelled is the line the label attribute was found on, when it
	// was not given; lines before it are unlabelled or bad.
	firstLabelled int
	bad           []*LineError
	stopped       bool
}

func (c *converter) setAttribute(a string) {
	c.attr, c.attrB, c.mattrB = a, []byte(a), []byte(a+"-metadata")
	c.attrJSON = appendJSONString(nil, []byte(a))
	c.sum.Attribute = a
	c.detected.Store(true)
}

// chunk is a run of whole lines and, once parsed, their rows.
type chunk struct {
	seq       int
	firstLine int
	data      []byte
	tooLong   bool // data is the start of one line longer than the limit
	rows      []row
	blank     int
}

type row struct {
	e    entry
	err  *LineError // set by parse or by sequence: the line is not used
	text []byte
	hash uint64
	val  bool
}

// read cuts the input into chunks of whole lines.
func (c *converter) read(ctx context.Context, r io.Reader, out chan<- *chunk) error {
	maxLine := c.opts.maxLine()
	line := 1
	var carry []byte
	eof, bomChecked := false, false
	for seq := 0; !eof || len(carry) > 0; seq++ {
		ch, err := c.getChunk(ctx)
		if err != nil {
			return err
		}
		buf := append(ch.data[:0], carry...)
		carry = carry[:0]
		if cap(buf) < chunkBytes {
			buf = append(make([]byte, 0, chunkBytes), buf...)
		}
		ch.tooLong = false
		for {
			for !eof && len(buf) < cap(buf) {
				n, err := r.Read(buf[len(buf):cap(buf)])
				buf = buf[:len(buf)+n]
				if err == io.EOF {
					eof = true
				} else if err != nil {
					return fmt.Errorf("read manifest: %w", err)
				}
			}
			if !bomChecked && (len(buf) >= len(bom) || eof) {
				bomChecked = true
				if bytes.HasPrefix(buf, bom) {
					c.sum.BOM = true
					buf = buf[:copy(buf, buf[len(bom):])]
					continue
				}
			}
			if eof {
				break
			}
			if i := bytes.LastIndexByte(buf, '\n'); i >= 0 {
				carry = append(carry, buf[i+1:]...)
				buf = buf[:i+1]
				break
			}
			if len(buf) > maxLine+2 {
				// One line longer than allowed: keep its start for the
				// rejected file and drop the rest of it.
				ch.tooLong = true
				rest, err := discardLine(r)
				if err == io.EOF {
					eof = true
				} else if err != nil {
					return fmt.Errorf("read manifest: %w", err)
				}
				carry = append(carry, rest...)
				buf = buf[:min(len(buf), maxRejectedText)]
				break
			}
			buf = append(buf, make([]byte, len(buf))...)[:len(buf)] // grow for a long line
		}
		ch.seq, ch.firstLine, ch.data = seq, line, buf
		if ch.tooLong {
			line++
		} else {
			line += bytes.Count(buf, []byte{'\n'})
			if eof && len(buf) > 0 && buf[len(buf)-1] != '\n' {
				line++
			}
		}
		select {
		case out <- ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// discardLine reads up to and including the next newline and returns what
// came after it in the last read.
func discardLine(r io.Reader) ([]byte, error) {
	var buf [64 << 10]byte
	for {
		n, err := r.Read(buf[:])
		if i := bytes.IndexByte(buf[:n], '\n'); i >= 0 {
			return append([]byte(nil), buf[i+1:n]...), nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// getChunk takes a free chunk. While the label attribute is still unknown,
// chunks are held back by dispatch, so new ones are made instead of
// waiting for one to come back.
func (c *converter) getChunk(ctx context.Context) (*chunk, error) {
	if !c.detected.Load() {
		select {
		case ch := <-c.free:
			return ch, nil
		default:
			return &chunk{}, nil
		}
	}
	select {
	case ch := <-c.free:
		return ch, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// dispatch finds the label attribute when none was given, holding chunks
// back until a line shows it, then passes every chunk on in order.
func (c *converter) dispatch(ctx context.Context, in <-chan *chunk, out chan<- *chunk) error {
	var held []*chunk
	send := func(ch *chunk) error {
		select {
		case out <- ch:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for ch := range in {
		if c.detected.Load() {
			if err := send(ch); err != nil {
				return err
			}
			continue
		}
		held = append(held, ch)
		if err := c.detect(ch); err != nil {
			return err
		}
		if c.detected.Load() {
			for _, h := range held {
				if err := send(h); err != nil {
					return err
				}
			}
			held = nil
		}
	}
	if !c.detected.Load() {
		// No line names an attribute: every line is unlabelled or bad.
		// They are still read, for the rejected file; finish then fails.
		c.firstLabelled = math.MaxInt
		for _, h := range held {
			if err := send(h); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *converter) detect(ch *chunk) error {
	if ch.tooLong {
		return nil
	}
	n := ch.firstLine
	for line := range bytes.Lines(ch.data) {
		line = trimLine(line)
		if len(line) > c.opts.maxLine() {
			n++
			continue // rejected as too long, whatever it holds
		}
		switch attrs := classificationAttributes(line); len(attrs) {
		case 0:
		case 1:
			c.setAttribute(attrs[0])
			c.firstLabelled = n
			return nil
		default:
			return fmt.Errorf("line %d: %w (%s): name one with --label-attribute", n, ErrAmbiguousAttribute, quoteList(attrs))
		}
		n++
	}
	return nil
}

// parse turns chunks into rows.
func (c *converter) parse(ctx context.Context, in <-chan *chunk, out chan<- *chunk) error {
	for ch := range in {
		ch.rows, ch.blank = ch.rows[:0], 0
		if ch.tooLong {
			ch.rows = append(ch.rows, row{
				err:  &LineError{Line: ch.firstLine, Reason: fmt.Sprintf("longer than %d bytes", c.opts.maxLine())},
				text: ch.data,
			})
		} else {
			c.parseLines(ch)
		}
		select {
		case out <- ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (c *converter) parseLines(ch *chunk) {
	data := ch.data
	n := ch.firstLine
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		var line []byte
		if i < 0 {
			line, data = data, nil
		} else {
			line, data = data[:i], data[i+1:]
		}
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		if len(line) > c.opts.maxLine() {
			ch.rows = append(ch.rows, row{
				err:  &LineError{Line: n, Reason: fmt.Sprintf("longer than %d bytes", c.opts.maxLine())},
				text: line[:min(len(line), maxRejectedText)],
			})
			n++
			continue
		}
		if isBlank(line) {
			ch.blank++
			n++
			continue
		}
		ch.rows = append(ch.rows, row{})
		r := &ch.rows[len(ch.rows)-1]
		r.text = line
		if n < c.firstLabelled {
			// Read before the label attribute was known, as Reader does.
			r.err = lineErrorNoAttribute(line, n)
			n++
			continue
		}
		if !parseFast(line, n, c.attrB, c.mattrB, &r.e) {
			if r.err = parseGeneric(line, n, c.attr, &r.e); r.err != nil {
				n++
				continue
			}
		}
		r.hash = sourceHash(r.e.sourceRef)
		r.val = inValidation(r.hash, c.opts.Seed, c.opts.ValidationFraction)
		n++
	}
}

// sequence takes parsed chunks back into line order and applies the rules
// that span lines; rows it leaves without an error are accepted.
func (c *converter) sequence(ctx context.Context, in <-chan *chunk, out chan<- *chunk) error {
	pending := map[int]*chunk{}
	next := 0
	var rejected []byte
	for ch := range in {
		pending[ch.seq] = ch
		for {
			ch, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			var err error
			if rejected, err = c.sequenceChunk(ch, rejected[:0]); err != nil {
				return err
			}
			if len(rejected) > 0 && c.out.Rejected != nil {
				if _, err := c.out.Rejected.Write(rejected); err != nil {
					return err
				}
			}
			select {
			case out <- ch:
			case <-ctx.Done():
				return ctx.Err()
			}
			if c.stopped {
				return c.badLinesError(true)
			}
		}
	}
	return nil
}

func (c *converter) sequenceChunk(ch *chunk, rejected []byte) ([]byte, error) {
	c.sum.Blank += ch.blank
	c.sum.Lines += len(ch.rows)
	if ch.seq == 0 && c.opts.SizeHint > 0 && len(ch.data) > 0 {
		perLine := float64(len(ch.data)) / float64(len(ch.rows)+ch.blank+1)
		c.chk.seen.reserve(int(1.02 * float64(c.opts.SizeHint) / perLine))
	}
	c.chk.seen.prefetch(ch.rows)
	for i := range ch.rows {
		r := &ch.rows[i]
		if r.err == nil {
			r.err = c.chk.check(&r.e, c.attr, r.hash)
		}
		if r.err == nil && c.lst {
			r.err = c.checkLst(&r.e)
		}
		if r.err != nil {
			var err error
			if rejected, err = c.reject(r, rejected); err != nil {
				return rejected, err
			}
			if c.stopped {
				return rejected, nil
			}
			continue
		}
		e := &r.e
		for j := range e.labels {
			if l := &e.labels[j]; len(l.name) == 0 {
				l.name = c.chk.classBytes(l.index)
			}
		}
		if e.lenientConfidence {
			c.sum.LenientConfidence++
		}
		if e.multi {
			c.sum.MultiLabel = true
		}
		counts := &c.sum.TrainByClass
		if r.val {
			c.sum.Validation++
			counts = &c.sum.ValidationByClass
		} else {
			c.sum.Train++
		}
		for _, l := range e.labels {
			for len(*counts) <= l.index {
				*counts = append(*counts, 0)
			}
			(*counts)[l.index]++
		}
	}
	return rejected, nil
}

func (c *converter) checkLst(e *entry) *LineError {
	if e.multi {
		return &LineError{Line: e.line, Field: c.attr, Reason: "a multi-label photo cannot be written to a .lst file: train from the augmented manifests"}
	}
	if bytes.ContainsAny(e.sourceRef, "\t\n\r") {
		return &LineError{Line: e.line, Field: "source-ref", Reason: "contains a tab or line break, which a .lst file cannot hold"}
	}
	return nil
}

func (c *converter) reject(r *row, rejected []byte) ([]byte, error) {
	switch r.err.Kind {
	case Invalid:
		c.sum.Invalid++
	case Unlabelled:
		c.sum.Unlabelled++
	case Duplicate:
		c.sum.Duplicate++
	case Filtered:
		c.sum.Filtered++
	case Conflicting:
		c.sum.Conflicting++
	}
	if k := r.err.Kind; k == Invalid || k == Duplicate || k == Conflicting {
		if len(c.bad) < maxListed {
			c.bad = append(c.bad, r.err)
		}
		if c.opts.MaxBad > 0 && c.sum.Invalid+c.sum.Duplicate+c.sum.Conflicting >= c.opts.MaxBad {
			c.stopped = true
		}
	}
	if c.out.Rejected == nil {
		return rejected, nil
	}
	return appendRejected(rejected, r.err, r.text)
}

func (c *converter) badLinesError(more bool) error {
	return &BadLinesError{Lines: c.bad, More: more}
}

// write writes the accepted rows of every chunk, in line order, to the
// labels table and the text outputs, then frees the chunk.
func (c *converter) write(ctx context.Context, in <-chan *chunk) error {
	// No min/max statistics on the strings: URIs are long and distinct, and
	// every row group holds every class, job and split, so the bounds would
	// prune nothing a reader asks for.
	cw, err := table.NewColumnWriter(c.out.Labels, LabelsTable, table.WriterOptions{RowGroupRows: batchRows, NoStats: []string{"source_ref", "class_name", "job_name", "split"}})
	if err != nil {
		return err
	}
	var lc labelColumns
	texts := newTextWriters(c.out)
	for ch := range in {
		lc.reset()
		for i := range ch.rows {
			r := &ch.rows[i]
			if r.err != nil {
				continue
			}
			e := &r.e
			for _, l := range e.labels {
				lc.add(e.sourceRef, l.index, l.name, l.conf, e.human, e.jobName, e.createdAt, e.createdOK, r.val)
			}
			texts.add(e, r.val, c.attrJSON, c.opts.LstPath)
		}
		if err := lc.write(cw); err != nil {
			return err
		}
		if err := texts.flush(flushBytes); err != nil {
			return err
		}
		select {
		case c.free <- ch:
		default: // one of the extra chunks made while detecting
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := texts.flush(0); err != nil {
		return err
	}
	return cw.Close()
}

func (c *converter) finish() (*Summary, error) {
	s := c.sum
	s.FirstBad = c.bad
	if s.Lines == 0 {
		return s, fmt.Errorf("%w: no JSON line (%d blank lines)", ErrEmpty, s.Blank)
	}
	if !c.detected.Load() {
		s.Attribute = ""
		if s.Lines > 0 {
			return s, fmt.Errorf("%w on any of %d lines (a key K whose K-metadata has type %q or %q): name it with --label-attribute", ErrNoAttribute, s.Lines, TypeSingleLabel, TypeMultiLabel)
		}
	}
	if c.opts.MaxBad > 0 && len(c.bad) > 0 {
		return s, c.badLinesError(false)
	}
	if late := c.chk.lateConflicts(); len(late) > 0 {
		return s, &ConflictError{Conflicts: late}
	}
	classes, err := c.chk.classes.result(c.chk.maxIndex)
	if err != nil {
		return s, err
	}
	s.Classes = classes
	for _, counts := range []*[]int{&s.TrainByClass, &s.ValidationByClass} {
		for len(*counts) < classes.Len() {
			*counts = append(*counts, 0)
		}
	}
	return s, nil
}

// classBytes names class i from the class map known so far; nil if unknown.
func (c *checker) classBytes(i int) []byte {
	for len(c.nameBytes) <= i {
		c.nameBytes = append(c.nameBytes, nil)
	}
	if c.nameBytes[i] == nil {
		if n := c.className(i); n != "" {
			c.nameBytes[i] = []byte(n)
		}
	}
	return c.nameBytes[i]
}

// className names class i from the class map known so far.
func (c *checker) className(i int) string {
	if c.classes.given != nil {
		if i < c.classes.given.Len() {
			return c.classes.given.names[i]
		}
		return ""
	}
	if i < len(c.classes.names) {
		return c.classes.names[i]
	}
	return ""
}

// textWriters buffers the augmented manifests and .lst files.
type textWriters struct {
	bufs [4][]byte    // train, validation, train.lst, validation.lst
	ws   [4]io.Writer // nil: not written
}

const flushBytes = 256 << 10

func newTextWriters(out Outputs) *textWriters {
	return &textWriters{ws: [4]io.Writer{out.Train, out.Validation, out.TrainLst, out.ValidationLst}}
}

func (t *textWriters) add(e *entry, val bool, attrJSON []byte, lstPath func(string) string) {
	man, lst := 0, 2
	if val {
		man, lst = 1, 3
	}
	if t.ws[man] != nil {
		t.bufs[man] = appendAugmented(t.bufs[man], attrJSON, e)
	}
	if t.ws[lst] != nil {
		t.bufs[lst] = appendLst(t.bufs[lst], e.line, e.labels[0].index, lstPath(unsafeString(e.sourceRef)))
	}
}

// flush writes every buffer holding at least limit bytes.
func (t *textWriters) flush(limit int) error {
	for i, w := range t.ws {
		if w == nil || len(t.bufs[i]) == 0 || len(t.bufs[i]) < limit {
			continue
		}
		if _, err := w.Write(t.bufs[i]); err != nil {
			return err
		}
		t.bufs[i] = t.bufs[i][:0]
	}
	return nil
}
