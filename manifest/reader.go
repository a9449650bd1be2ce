package manifest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
)

// A Reader reads the labelled photos of a Ground Truth output manifest one
// line at a time.
type Reader struct {
	br      *bufio.Reader
	opts    Options
	attr    string
	attrB   []byte
	mattrB  []byte
	chk     *checker
	line    int
	buf     []byte
	e       entry
	lines   int // non-blank lines seen
	blank   int
	bom     bool
	err     error
	tooLong bool
}

// NewReader returns a Reader of the manifest in r.
func NewReader(r io.Reader, opts Options) *Reader {
	rd := &Reader{br: bufio.NewReaderSize(r, 64<<10), opts: opts, chk: newChecker(opts)}
	if opts.LabelAttribute != "" {
		rd.setAttribute(opts.LabelAttribute)
	}
	return rd
}

func (r *Reader) setAttribute(a string) {
	r.attr, r.attrB, r.mattrB = a, []byte(a), []byte(a+"-metadata")
}

// Attribute returns the label attribute being read: the one given, or the
// one found on the first labelled line ("" until then).
func (r *Reader) Attribute() string { return r.attr }

// Read returns the next labelled photo. A line that is not used gives a
// *LineError, after which Read goes on with the next line. At the end Read
// returns io.EOF; any other error ends the reading.
func (r *Reader) Read() (Record, error) {
	for {
		if r.err != nil {
			return Record{}, r.err
		}
		line, err := r.next()
		if err != nil {
			if err == io.EOF && r.attr == "" && r.lines > 0 {
				err = fmt.Errorf("%w on any of %d lines (a key K whose K-metadata has type %q or %q): name it with --label-attribute", ErrNoAttribute, r.lines, TypeSingleLabel, TypeMultiLabel)
			}
			r.err = err
			return Record{}, err
		}
		if r.tooLong {
			// Checked before the blank-line test: a too-long line whose
			// bytes were all dropped comes back as nil.
			r.tooLong = false
			return Record{}, &LineError{Line: r.line, Reason: fmt.Sprintf("longer than %d bytes", r.opts.maxLine())}
		}
		if line == nil {
			continue // blank
		}
		if r.attr == "" {
			attrs := classificationAttributes(line)
			switch len(attrs) {
			case 0:
				return Record{}, lineErrorNoAttribute(line, r.line)
			case 1:
				r.setAttribute(attrs[0])
			default:
				r.err = fmt.Errorf("line %d: %w (%s): name one with --label-attribute", r.line, ErrAmbiguousAttribute, quoteList(attrs))
				return Record{}, r.err
			}
		}
		e := &r.e
		if !parseFast(line, r.line, r.attrB, r.mattrB, e) {
			if lerr := parseGeneric(line, r.line, r.attr, e); lerr != nil {
				return Record{}, lerr
			}
		}
		if lerr := r.chk.check(e, r.attr, sourceHash(e.sourceRef)); lerr != nil {
			return Record{}, lerr
		}
		return e.record(r.className), nil
	}
}

func (r *Reader) className(i int) string {
	if r.opts.Classes != nil && i < r.opts.Classes.Len() {
		return r.opts.Classes.Name(i)
	}
	if i < len(r.chk.classes.names) {
		return r.chk.classes.names[i]
	}
	return ""
}

// Classes returns the class map: the one given in Options, or the one
// learned from the lines read so far. It is an error when some class index
// below the largest seen was never named.
func (r *Reader) Classes() (*ClassMap, error) { return r.chk.classes.result(r.chk.maxIndex) }

// Conflicts returns the photos found so far that lines label differently.
// Their first line was returned as a Record before the conflict showed;
// read the manifest again with Options.Conflicts set to them to reject
// every line of them.
func (r *Reader) Conflicts() []Conflict { return r.chk.lateConflicts() }

// Stats reports the lines read so far: non-blank lines, and blank lines
// skipped. BOM is true when the manifest started with a UTF-8 byte-order
// mark (which is skipped).
func (r *Reader) Stats() (lines, blank int, bom bool) { return r.lines, r.blank, r.bom }

// next returns the next line without its line ending, nil for a blank line.
func (r *Reader) next() ([]byte, error) {
	r.buf = r.buf[:0]
	for {
		frag, err := r.br.ReadSlice('\n')
		if len(r.buf)+len(frag) <= r.opts.maxLine()+2 {
			r.buf = append(r.buf, frag...)
		} else {
			r.tooLong = true
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF && len(r.buf) == 0 && !r.tooLong {
			return nil, io.EOF
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
		break
	}
	r.line++
	line := trimLine(r.buf)
	if r.line == 1 && bytes.HasPrefix(line, bom) {
		line, r.bom = line[len(bom):], true
	}
	if len(line) > r.opts.maxLine() {
		r.tooLong = true // the +2 above is for the line ending only
	}
	if r.tooLong {
		r.lines++
		return line, nil
	}
	if isBlank(line) {
		r.blank++
		return nil, nil
	}
	r.lines++
	return line, nil
}

// trimLine drops one "\n" and then one "\r".
func trimLine(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}

// lineErrorNoAttribute explains a line read before the label attribute is
// known that has no image-classification attribute: it is either broken or
// not labelled.
func lineErrorNoAttribute(line []byte, n int) *LineError {
	var e entry
	if lerr := parseGeneric(line, n, "\x00", &e); lerr != nil && lerr.Kind == Invalid {
		return lerr
	}
	return &LineError{Line: n, Reason: "no image-classification label attribute (the object was not labelled)", Kind: Unlabelled}
}

func quoteList(s []string) string {
	var b bytes.Buffer
	for i, x := range s {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", x)
	}
	return b.String()
}

// isBlank reports a line of JSON whitespace only.
func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}
