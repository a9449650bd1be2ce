package manifest

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// entry is one parsed line, shared by the generic and the fast parser.
// Byte slices point into the line (fast parser) or into fresh copies
// (generic parser); they are valid until the line's buffer is reused.
type entry struct {
	line      int
	sourceRef []byte
	// plainSource is set when sourceRef needs no escaping in JSON (the
	// fast parser read it without escapes or control characters).
	plainSource bool
	labels      []rawLabel // one for single-label; labels = one[:1] then
	one         [1]rawLabel
	multi       bool
	human       int8 // -1 unknown, 0 no, 1 yes
	jobName     []byte
	created     []byte
	createdAt   int64 // Unix microseconds, valid when createdOK
	createdOK   bool
	typ         []byte
	// lenientConfidence is set when a confidence was given as a string.
	lenientConfidence bool
}

type rawLabel struct {
	index int
	name  []byte
	conf  float64 // NaN = not given
}

func (e *entry) reset(line int) {
	*e = entry{line: line, human: -1}
}

func (e *entry) setCreated(b []byte) {
	e.created = b
	e.createdAt, e.createdOK = parseCreatedMicros(b)
}

// record copies the entry into a Record that owns its strings.
func (e *entry) record(names func(int) string) Record {
	r := Record{
		Line:       e.line,
		SourceRef:  string(e.sourceRef),
		MultiLabel: e.multi,
		Human:      e.human == 1,
		HumanKnown: e.human >= 0,
		JobName:    string(e.jobName),
		Created:    string(e.created),
		Type:       string(e.typ),
		Labels:     make([]Label, len(e.labels)),
	}
	if e.createdOK {
		r.CreatedAt = time.UnixMicro(e.createdAt).UTC()
	}
	for i, l := range e.labels {
		r.Labels[i] = Label{Index: l.index, Name: string(l.name), Confidence: l.conf}
		if r.Labels[i].Name == "" && names != nil {
			r.Labels[i].Name = names(l.index)
		}
	}
	return r
}

// The rules below are shared by both parsers, so that they agree on every
// value: a parser only finds the JSON values, these decide what they mean.

// indexFromDigits reads a class index written as an integer literal or a
// digit string: 0, 7, "0", "12". Leading zeros, signs, fractions and
// exponents are refused.
func indexFromDigits(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 9 || (b[0] == '0' && len(b) > 1) {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

const wantIndex = "want a class index: a non-negative integer such as 0 or \"0\""

// confidenceFrom reads a confidence from a JSON number literal (or, with
// lenient set, from the text of a JSON string).
func confidenceFrom(b []byte) (float64, string) {
	f, ok := exactDecimal(b)
	var err error
	if !ok {
		f, err = strconv.ParseFloat(unsafeString(b), 64)
	}
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Sprintf("got %q, want a number in [0, 1]", b)
	}
	if f < 0 || f > 1 {
		return 0, fmt.Sprintf("got %s, want a number in [0, 1]", b)
	}
	return f, ""
}

func humanFrom(b []byte) (int8, string) {
	switch string(b) {
	case "yes":
		return 1, ""
	case "no":
		return 0, ""
	}
	return 0, fmt.Sprintf("got %q, want \"yes\" or \"no\"", b)
}

func isClassificationType(t []byte) bool {
	return string(t) == TypeSingleLabel || string(t) == TypeMultiLabel
}

// parseCreatedMicros reads the creation-date spellings seen in real
// manifests. The common ISO-8601 forms are read by hand (this runs on every
// line); anything else goes through time.Parse with the other layouts.
func parseCreatedMicros(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	if us, ok := parseISOMicros(b); ok {
		return us, true
	}
	t := parseCreated(string(b))
	if t.IsZero() {
		return 0, false
	}
	return t.UnixMicro(), true
}

// parseISOMicros reads YYYY-MM-DD[T ]hh:mm:ss[.f{1,9}][Z|±hh:mm|±hhmm],
// no zone meaning UTC, to Unix microseconds (fractions below a microsecond
// are truncated, as time.Time.UnixMicro does).
func parseISOMicros(b []byte) (int64, bool) {
	if len(b) < 19 || b[4] != '-' || b[7] != '-' || (b[10] != 'T' && b[10] != ' ') || b[13] != ':' || b[16] != ':' {
		return 0, false
	}
	num := func(i, n int) (int, bool) {
		v := 0
		for _, c := range b[i : i+n] {
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		return v, true
	}
	year, ok1 := num(0, 4)
	month, ok2 := num(5, 2)
	day, ok3 := num(8, 2)
	hour, ok4 := num(11, 2)
	minute, ok5 := num(14, 2)
	sec, ok6 := num(17, 2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return 0, false
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 59 {
		return 0, false
	}
	rest := b[19:]
	var frac int64
	if len(rest) > 0 && rest[0] == '.' {
		n := 1
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		digits := rest[1:n]
		if len(digits) == 0 || len(digits) > 9 {
			return 0, false
		}
		for i := range 6 {
			frac *= 10
			if i < len(digits) {
				frac += int64(digits[i] - '0')
			}
		}
		rest = rest[n:]
	}
	offset := 0
	switch {
	case len(rest) == 0:
	case len(rest) == 1 && rest[0] == 'Z':
		if b[10] != 'T' {
			return 0, false
		}
	case (len(rest) == 6 && rest[3] == ':' || len(rest) == 5) && (rest[0] == '+' || rest[0] == '-'):
		if b[10] != 'T' {
			return 0, false
		}
		hh, ok := num(len(b)-len(rest)+1, 2)
		mm, ok2 := num(len(b)-2, 2)
		if !ok || !ok2 || hh > 23 || mm > 59 {
			return 0, false
		}
		offset = hh*3600 + mm*60
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return 0, false
	}
	days := daysFromCivil(year, month, day)
	secs := days*86400 + int64(hour*3600+minute*60+sec) - int64(offset)
	return secs*1_000_000 + frac, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil returns days since 1970-01-01 (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 {
		era = (y - 399) / 400 // floor division (year 0, January and February)
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

var nan = math.NaN()

// pow10 holds the powers of ten that float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// exactDecimal reads a plain decimal such as 0.94 or 1 (at most 15
// digits, no exponent) as mantissa / 10^k. Both are exact in float64, so
// the one division rounds correctly and the result is strconv.ParseFloat's
// (Clinger's fast path), at a fraction of its cost. Anything else: !ok.
func exactDecimal(b []byte) (float64, bool) {
	i, neg := 0, false
	if len(b) > 0 && b[0] == '-' {
		i, neg = 1, true
	}
	var mant uint64
	digits, frac, dot := 0, 0, false
	for ; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= '0' && c <= '9':
			mant = mant*10 + uint64(c-'0')
			digits++
			if dot {
				frac++
			}
		case c == '.' && !dot:
			dot = true
		default:
			return 0, false
		}
	}
	if digits == 0 || digits > 15 {
		return 0, false
	}
	f := float64(mant) / pow10[frac]
	if neg {
		f = -f
	}
	return f, true
}
