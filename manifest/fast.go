package manifest

import (
	"bytes"
	"encoding/binary"
	"unicode/utf8"
)

// parseFast reads the common shape of a single-label line without
// allocating: plain strings (no escapes), a class index, a metadata object
// of known keys, any other keys skipped but checked. It returns false for
// anything else, or for any line with a problem, and the caller then uses
// parseGeneric, which alone writes error messages. So the two parsers can
// only differ by the fast one accepting a line the generic one would read
// differently, and a differential fuzz test holds them to the same records.
func parseFast(line []byte, lineNo int, attr, mattr []byte, e *entry) bool {
	e.reset(lineNo)
	if !utf8.Valid(line) {
		return false
	}
	s := scanner{b: line}
	s.ws()
	if !s.eat('{') {
		return false
	}
	var keys keySet
	var value []byte
	valueIsString, haveValue, haveMeta, haveSrc := false, false, false, false
	s.ws()
	if s.eat('}') {
		return false // no source-ref
	}
	for {
		s.ws()
		key, ok := s.str()
		if !ok || !keys.add(key) {
			return false
		}
		s.ws()
		if !s.eat(':') {
			return false
		}
		s.ws()
		switch {
		case string(key) == "source-ref":
			v, ok := s.str()
			if !ok || checkSourceRef(unsafeString(v)) != "" {
				return false
			}
			e.sourceRef, e.plainSource, haveSrc = v, true, true
		case bytes.Equal(key, attr):
			if s.peek() == '"' {
				v, ok := s.str()
				if !ok {
					return false
				}
				value, valueIsString = v, true
			} else {
				v, ok := s.number()
				if !ok {
					return false
				}
				value = v
			}
			haveValue = true
		case bytes.Equal(key, mattr):
			if !s.metadata(e) {
				return false
			}
			haveMeta = true
		default:
			if !s.skip(0) {
				return false
			}
		}
		s.ws()
		if s.eat(',') {
			continue
		}
		if !s.eat('}') {
			return false
		}
		break
	}
	s.ws()
	if s.i != len(s.b) || !haveSrc || !haveValue || !haveMeta {
		return false
	}
	_ = valueIsString
	idx, ok := indexFromDigits(value)
	if !ok {
		return false
	}
	if e.typ != nil && string(e.typ) != TypeSingleLabel {
		return false
	}
	e.one[0].index = idx
	e.labels = e.one[:1]
	return true
}

// metadata reads the label attribute's metadata object into e.
func (s *scanner) metadata(e *entry) bool {
	if !s.eat('{') {
		return false
	}
	e.one[0].conf = nan
	var keys keySet
	s.ws()
	if s.eat('}') {
		return true
	}
	for {
		s.ws()
		key, ok := s.str()
		if !ok || !keys.add(key) {
			return false
		}
		s.ws()
		if !s.eat(':') {
			return false
		}
		s.ws()
		var dst *[]byte
		switch string(key) {
		case "confidence":
			if s.null() {
				break
			}
			lit, ok := s.number()
			if !ok {
				return false // a string confidence is read leniently by parseGeneric
			}
			f, reason := confidenceFrom(lit)
			if reason != "" {
				return false
			}
			e.one[0].conf = f
		case "class-name":
			dst = &e.one[0].name
		case "job-name":
			dst = &e.jobName
		case "creation-date":
			dst = &e.created
		case "type":
			dst = &e.typ
		case "human-annotated":
			if s.null() {
				break
			}
			v, ok := s.str()
			if !ok {
				return false
			}
			h, reason := humanFrom(v)
			if reason != "" {
				return false
			}
			e.human = h
		default:
			if !s.skip(0) {
				return false
			}
		}
		if dst != nil && !s.null() {
			v, ok := s.str()
			if !ok {
				return false
			}
			*dst = v
		}
		s.ws()
		if s.eat(',') {
			continue
		}
		if !s.eat('}') {
			return false
		}
		break
	}
	if e.created != nil {
		e.setCreated(e.created)
	}
	return e.typ == nil || isClassificationType(e.typ)
}

// scanner is a JSON scanner over one line.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *scanner) eat(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

func (s *scanner) null() bool {
	if bytes.HasPrefix(s.b[s.i:], []byte("null")) {
		s.i += 4
		return true
	}
	return false
}

// plain marks bytes that end a plain string run: the quote, the backslash
// and the control characters JSON forbids inside strings.
var plain = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c != '"' && c != '\\' && c >= 0x20
	}
	return t
}()

// str reads a string without escapes and returns its contents. It looks
// at eight bytes at a time for a quote, a backslash or a control character.
func (s *scanner) str() ([]byte, bool) {
	if !s.eat('"') {
		return nil, false
	}
	b, start := s.b, s.i
	i := start
	for ; i+8 <= len(b); i += 8 {
		if special8(binary.LittleEndian.Uint64(b[i:])) != 0 {
			break
		}
	}
	for i < len(b) && plain[b[i]] {
		i++
	}
	if i >= len(b) || b[i] != '"' {
		return nil, false // escape, control character or no end
	}
	s.i = i + 1
	return b[start:i], true
}

// special8 is non-zero when one of the eight bytes in x is '"', '\\' or
// below 0x20 (the classic has-zero-byte and has-less-than tricks).
func special8(x uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	q := x ^ (ones * '"')
	bs := x ^ (ones * '\\')
	return ((q-ones)&^q | (bs-ones)&^bs | (x-ones*0x20)&^x) & highs
}

// number reads a JSON number literal, checking the grammar exactly.
func (s *scanner) number() ([]byte, bool) {
	b, start := s.b, s.i
	i := s.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return nil, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return nil, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return nil, false
		}
	}
	s.i = i
	return b[start:i], true
}

// maxDepth bounds nesting in skipped values; deeper lines go to the
// generic parser.
const maxDepth = 32

// skip checks and passes over one value.
func (s *scanner) skip(depth int) bool {
	if depth > maxDepth {
		return false
	}
	switch c := s.peek(); {
	case c == '"':
		_, ok := s.str()
		return ok
	case c == '{':
		s.i++
		var keys keySet
		s.ws()
		if s.eat('}') {
			return true
		}
		for {
			s.ws()
			k, ok := s.str()
			if !ok || !keys.add(k) {
				return false
			}
			s.ws()
			if !s.eat(':') {
				return false
			}
			s.ws()
			if !s.skip(depth + 1) {
				return false
			}
			s.ws()
			if s.eat(',') {
				continue
			}
			return s.eat('}')
		}
	case c == '[':
		s.i++
		s.ws()
		if s.eat(']') {
			return true
		}
		for {
			s.ws()
			if !s.skip(depth + 1) {
				return false
			}
			s.ws()
			if s.eat(',') {
				continue
			}
			return s.eat(']')
		}
	case c == 't':
		return s.lit("true")
	case c == 'f':
		return s.lit("false")
	case c == 'n':
		return s.null()
	default:
		_, ok := s.number()
		return ok
	}
}

func (s *scanner) lit(word string) bool {
	if bytes.HasPrefix(s.b[s.i:], []byte(word)) {
		s.i += len(word)
		return true
	}
	return false
}

// keySet finds a repeated key among an object's keys without allocating
// for the small objects of a manifest line; objects with more keys than it
// holds go to the generic parser.
type keySet struct {
	n    int
	keys [24][]byte
}

func (k *keySet) add(key []byte) bool {
	if k.n == len(k.keys) {
		return false
	}
	for _, have := range k.keys[:k.n] {
		if bytes.Equal(have, key) {
			return false
		}
	}
	k.keys[k.n] = key
	k.n++
	return true
}
