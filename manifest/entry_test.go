package manifest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// isoLayouts are time.Parse layouts for every spelling parseISOMicros
// reads. A string it accepts must parse with one of them to the same
// instant.
var isoLayouts = []string{
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999-0700",
}

// stdMicros parses s with the first of isoLayouts that takes it.
func stdMicros(s string) (int64, string, bool) {
	for _, layout := range isoLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UnixMicro(), layout, true
		}
	}
	return 0, "", false
}

func TestParseISOMicros(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time // zero: refused by the fast parser
	}{
		// The spellings seen in real manifests.
		{"2018-10-18T22:18:13.527256", at(2018, 10, 18, 22, 18, 13, 527256)},
		{"2020-03-06T17:46:39.176", at(2020, 3, 6, 17, 46, 39, 176000)},
		{"2021-07-11T03:32:13.456Z", at(2021, 7, 11, 3, 32, 13, 456000)},
		{"2020-05-15T08:01:16+0000", at(2020, 5, 15, 8, 1, 16, 0)},
		{"2013-11-18 02:53:27", at(2013, 11, 18, 2, 53, 27, 0)},
		{"2024-04-10T21:39:51", at(2024, 4, 10, 21, 39, 51, 0)},
		// Zones, fractions, calendar edges.
		{"2026-11-28T10:00:00.5+01:00", at(2026, 11, 28, 9, 0, 0, 500000)},
		{"2026-11-28T01:30:00-0230", at(2026, 11, 28, 4, 0, 0, 0)},
		{"2026-11-28T23:59:59.999999999-14:00", at(2026, 11, 29, 13, 59, 59, 999999)},
		{"2026-11-28T00:00:00+14:00", at(2026, 11, 27, 10, 0, 0, 0)},
		{"2026-11-28T09:14:07.1", at(2026, 11, 28, 9, 14, 7, 100000)},
		{"2026-11-28T09:14:07.0000009", at(2026, 11, 28, 9, 14, 7, 0)},
		{"2026-11-28 09:14:07.123456", at(2026, 11, 28, 9, 14, 7, 123456)},
		{"2020-02-29T12:00:00", at(2020, 2, 29, 12, 0, 0, 0)},
		{"2000-02-29T12:00:00", at(2000, 2, 29, 12, 0, 0, 0)},
		{"1969-12-31T23:59:59.999999", at(1969, 12, 31, 23, 59, 59, 999999)},
		{"1970-01-01T00:00:00Z", at(1970, 1, 1, 0, 0, 0, 0)},
		{"0000-01-01T00:00:00", time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"0000-02-29T23:59:59", time.Date(0, 2, 29, 23, 59, 59, 0, time.UTC)},
		{"0000-03-01T00:00:00", time.Date(0, 3, 1, 0, 0, 0, 0, time.UTC)},
		{"0001-01-01T00:00:00.000001", time.Date(1, 1, 1, 0, 0, 0, 1000, time.UTC)},
		{"9999-12-31T23:59:59.999999-12:00", time.Date(10000, 1, 1, 11, 59, 59, 999999000, time.UTC)},
		// Refused: not a date, or a spelling left to time.Parse.
		{"2019-02-30T00:00:00", time.Time{}},
		{"2019-02-29T00:00:00", time.Time{}},
		{"1900-02-29T00:00:00", time.Time{}},
		{"2019-04-31T00:00:00", time.Time{}},
		{"2019-04-09T24:00:00", time.Time{}},
		{"2019-04-09T23:60:00", time.Time{}},
		{"2019-04-09T23:59:60", time.Time{}},
		{"2019-13-01T00:00:00", time.Time{}},
		{"2019-00-01T00:00:00", time.Time{}},
		{"2019-01-00T00:00:00", time.Time{}},
		{"2019-04-09T04:21:19.", time.Time{}},
		{"2019-04-09T04:21:19.1234567890", time.Time{}},
		{"2019-04-09T04:21:19,914807", time.Time{}},
		{"2019-04-09 04:21:19Z", time.Time{}},
		{"2019-04-09 04:21:19+00:00", time.Time{}},
		{"2019-04-09T04:21:19+24:00", time.Time{}},
		{"2019-04-09T04:21:19+00:60", time.Time{}},
		{"2019-04-09T04:21:19+0:00", time.Time{}},
		{"2019-04-09T04:21:19+00", time.Time{}},
		{"2019-04-09T04:21:19z", time.Time{}},
		{"2019-04-09t04:21:19", time.Time{}},
		{"2019-04-09T04:21:19 ", time.Time{}},
		{"2019-04-09T04:21:19ZZ", time.Time{}},
		{"2019-04-09T4:21:19", time.Time{}},
		{"2019-4-09T04:21:19", time.Time{}},
		{"+2019-04-09T04:21:19", time.Time{}},
		{"2019-04-09", time.Time{}},
		{"not a date", time.Time{}},
		{"", time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := parseISOMicros([]byte(tt.in))
			if tt.want.IsZero() {
				if ok {
					t.Fatalf("parseISOMicros(%q) = %d, true; want it refused", tt.in, got)
				}
				return
			}
			if !ok {
				t.Fatalf("parseISOMicros(%q) refused it, want %v", tt.in, tt.want)
			}
			if want := tt.want.UnixMicro(); got != want {
				t.Errorf("parseISOMicros(%q) = %v, want %v", tt.in, time.UnixMicro(got).UTC(), tt.want)
			}
			std, layout, ok := stdMicros(tt.in)
			if !ok || std != got {
				t.Errorf("parseISOMicros(%q) = %d, time.Parse(%q) = %d, %v", tt.in, got, layout, std, ok)
			}
		})
	}
}

func TestParseCreatedMicros(t *testing.T) {
	tests := []struct {
		in     string
		want   time.Time
		wantOK bool
	}{
		{"2018-10-18T22:18:13.527256", at(2018, 10, 18, 22, 18, 13, 527256), true},
		{"2013-11-18 02:53:27", at(2013, 11, 18, 2, 53, 27, 0), true},
		// Left to time.Parse by the fast parser.
		{"2019-04-09 04:21:19Z", at(2019, 4, 9, 4, 21, 19, 0), true},
		{"2019-04-09 04:21:19.5+02:00", at(2019, 4, 9, 2, 21, 19, 500000), true},
		{"2019-04-09T04:21:19.1234567891", at(2019, 4, 9, 4, 21, 19, 123456), true},
		{"2019-04-09T04:21:19,914807", at(2019, 4, 9, 4, 21, 19, 914807), true},
		// Never fatal, just unknown.
		{"not a date", time.Time{}, false},
		{"2019-02-30T00:00:00", time.Time{}, false},
		{"2019-04-09T24:00:00", time.Time{}, false},
		{"2019-13-09T00:00:00", time.Time{}, false},
		{"1554783679", time.Time{}, false},
		{"", time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := parseCreatedMicros([]byte(tt.in))
			if ok != tt.wantOK {
				t.Fatalf("parseCreatedMicros(%q) ok = %v, want %v", tt.in, ok, tt.wantOK)
			}
			if ok && got != tt.want.UnixMicro() {
				t.Errorf("parseCreatedMicros(%q) = %v, want %v", tt.in, time.UnixMicro(got).UTC(), tt.want)
			}
		})
	}
}

// Random instants, written with the layouts manifests use, read back by
// parseCreatedMicros as time.Parse reads them.
func TestParseCreatedMicrosAgreesWithTimeParse(t *testing.T) {
	layouts := []struct {
		layout string
		fast   bool // parseISOMicros takes it itself
	}{
		{"2006-01-02T15:04:05.000000", true},
		{"2006-01-02T15:04:05.000", true},
		{"2006-01-02T15:04:05", true},
		{"2006-01-02T15:04:05.999999999", true},
		{"2006-01-02T15:04:05.000000000", true},
		{time.RFC3339, true},
		{time.RFC3339Nano, true},
		{"2006-01-02T15:04:05.000Z07:00", true},
		{"2006-01-02T15:04:05-0700", true},
		{"2006-01-02T15:04:05.000000-0700", true},
		{"2006-01-02 15:04:05", true},
		{"2006-01-02 15:04:05.000000", true},
		{"2006-01-02 15:04:05Z07:00", false},
		{"2006-01-02 15:04:05.999Z07:00", false},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	lo := time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	hi := time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Unix()
	recent := time.Date(2018, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	for i := range 20_000 {
		sec := lo + rng.Int64N(hi-lo)
		if i%2 == 0 { // half of them in the years manifests are written
			sec = recent + rng.Int64N(10*365*86400)
		}
		zone := time.UTC
		if off := rng.IntN(4*28+1) - 4*14; i%3 != 0 { // quarter hours, -14:00..+14:00
			zone = time.FixedZone("", off*15*60)
		}
		tm := time.Unix(sec, rng.Int64N(1e9)).In(zone)
		if tm.Year() < 0 || tm.Year() > 9999 {
			continue
		}
		l := layouts[i%len(layouts)]
		s := tm.Format(l.layout)
		std, err := time.Parse(l.layout, s)
		if err != nil {
			t.Fatalf("time.Parse(%q, %q): %v", l.layout, s, err)
		}
		got, ok := parseCreatedMicros([]byte(s))
		if !ok || got != std.UnixMicro() {
			t.Fatalf("parseCreatedMicros(%q) = %d, %v; time.Parse gives %d (%v)", s, got, ok, std.UnixMicro(), std.UTC())
		}
		if _, fast := parseISOMicros([]byte(s)); fast != l.fast {
			t.Fatalf("parseISOMicros(%q) ok = %v, want %v", s, fast, l.fast)
		}
	}
}

// FuzzParseISOMicros: whatever the fast date parser accepts, time.Parse
// reads as the same instant.
func FuzzParseISOMicros(f *testing.F) {
	for _, s := range []string{
		"2018-10-18T22:18:13.527256", "2020-03-06T17:46:39.176", "2021-07-11T03:32:13.456Z",
		"2020-05-15T08:01:16+0000", "2013-11-18 02:53:27", "2024-04-10T21:39:51",
		"2026-11-28T10:00:00.5+01:00", "0000-02-29T23:59:59", "9999-12-31T23:59:59.999999999-23:59",
		"2019-02-30T00:00:00", "2019-04-09T24:00:00", "2019-04-09T04:21:19+24:00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseISOMicros([]byte(s))
		if !ok {
			return
		}
		std, layout, stdOK := stdMicros(s)
		if !stdOK {
			t.Fatalf("parseISOMicros(%q) = %d, but time.Parse takes it with none of %q", s, got, isoLayouts)
		}
		if got != std {
			t.Fatalf("parseISOMicros(%q) = %d, time.Parse(%q) = %d", s, got, layout, std)
		}
		if c, ok := parseCreatedMicros([]byte(s)); !ok || c != got {
			t.Fatalf("parseCreatedMicros(%q) = %d, %v, want %d", s, c, ok, got)
		}
	})
}

func TestIndexFromDigits(t *testing.T) {
	tests := []struct {
		in     string
		want   int
		wantOK bool
	}{
		{"0", 0, true},
		{"7", 7, true},
		{"12", 12, true},
		{"30", 30, true},
		{"999999999", 999999999, true},
		{"1000000000", 0, false}, // more digits than an index needs
		{"", 0, false},
		{"00", 0, false},
		{"01", 0, false},
		{"-0", 0, false},
		{"-1", 0, false},
		{"+1", 0, false},
		{"1.0", 0, false},
		{"1e2", 0, false},
		{"0x1", 0, false},
		{" 1", 0, false},
		{"1 ", 0, false},
		{"１", 0, false}, // fullwidth digit one
		{"one", 0, false},
		{"null", 0, false},
	}
	for _, tt := range tests {
		got, ok := indexFromDigits([]byte(tt.in))
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("indexFromDigits(%q) = %d, %v, want %d, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestConfidenceFrom(t *testing.T) {
	tests := []struct {
		in      string
		want    float64
		wantBad bool
	}{
		{"0", 0, false},
		{"0.00", 0, false},
		{"-0", 0, false},
		{"0.51", 0.51, false},
		{"1", 1, false},
		{"1.0", 1, false},
		{"1e-1", 0.1, false},
		{"1e-400", 0, false}, // underflows to 0: in range
		{"1.5", 0, true},
		{"-0.1", 0, true},
		{"1.0000001", 0, true},
		{"1e400", 0, true},
		{"NaN", 0, true},
		{"Inf", 0, true},
		{"abc", 0, true},
		{"", 0, true},
	}
	for _, tt := range tests {
		got, reason := confidenceFrom([]byte(tt.in))
		if (reason != "") != tt.wantBad || got != tt.want {
			t.Errorf("confidenceFrom(%q) = %v, %q; want %v, bad=%v", tt.in, got, reason, tt.want, tt.wantBad)
		}
	}
}

// randomRefs returns n distinct source-refs.
func randomRefs(n int, seed uint64) [][]byte {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	refs := make([][]byte, n)
	for i := range refs {
		refs[i] = fmt.Appendf(nil, "s3://reviewlens-photos/2026/%02d/%02d/r-%08x/%d.jpg", 1+rng.IntN(12), 1+rng.IntN(28), rng.Uint32(), i)
	}
	return refs
}

func TestInValidationShare(t *testing.T) {
	refs := randomRefs(100_000, 7)
	for _, seed := range []int64{0, 1, 42, -5} {
		for _, fraction := range []float64{0.05, 0.1, 0.2, 0.25, 0.5, 0.9} {
			t.Run(fmt.Sprintf("seed %d fraction %g", seed, fraction), func(t *testing.T) {
				n := 0
				for _, ref := range refs {
					if inValidation(sourceHash(ref), seed, fraction) {
						n++
					}
				}
				if share := float64(n) / float64(len(refs)); math.Abs(share-fraction) > 0.01 {
					t.Errorf("validation share %.4f, want %g ± 0.01", share, fraction)
				}
			})
		}
	}
}

func TestInValidationEdges(t *testing.T) {
	for _, ref := range randomRefs(1000, 8) {
		h := sourceHash(ref)
		if inValidation(h, 3, 0) {
			t.Fatalf("%s in validation with fraction 0", ref)
		}
		if !inValidation(h, 3, 1) {
			t.Fatalf("%s not in validation with fraction 1", ref)
		}
	}
}

func TestInValidationDeterministic(t *testing.T) {
	refs := randomRefs(10_000, 9)
	first := make([]bool, len(refs))
	for i, ref := range refs {
		first[i] = inValidation(sourceHash(ref), 42, 0.2)
	}
	// The same refs in another order, with others between them, split
	// the same way.
	others := randomRefs(10_000, 10)
	for i := len(refs) - 1; i >= 0; i-- {
		inValidation(sourceHash(others[i]), 42, 0.2)
		if got := inValidation(sourceHash(refs[i]), 42, 0.2); got != first[i] {
			t.Fatalf("%s: in validation %v, then %v", refs[i], first[i], got)
		}
	}
}

func TestInValidationDependsOnSeed(t *testing.T) {
	refs := randomRefs(100_000, 11)
	for _, seeds := range [][2]int64{{1, 2}, {0, 1}, {42, 43}, {1, -1}} {
		differ, both := 0, 0
		for _, ref := range refs {
			h := sourceHash(ref)
			a, b := inValidation(h, seeds[0], 0.2), inValidation(h, seeds[1], 0.2)
			if a != b {
				differ++
			}
			if a && b {
				both++
			}
		}
		// Independent splits differ on 2·0.2·0.8 = 32% of lines and share
		// 0.2·0.2 = 4% of them in validation.
		if share := float64(differ) / float64(len(refs)); math.Abs(share-0.32) > 0.01 {
			t.Errorf("seeds %v: splits differ on %.4f of lines, want 0.32 ± 0.01", seeds, share)
		}
		if share := float64(both) / float64(len(refs)); math.Abs(share-0.04) > 0.005 {
			t.Errorf("seeds %v: %.4f of lines in both validation sets, want 0.04 ± 0.005", seeds, share)
		}
	}
}

// The split of a source-ref must not change between versions: that would
// move photos between training and validation. If this fails, the hash or
// inValidation changed.
func TestSplitPinned(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
	}{
		// xxHash64 reference values.
		{"", 0xef46db3751d8e999},
		{"abc", 0x44bc2cf5ad770999},
	}
	for _, tt := range tests {
		if got := sourceHash([]byte(tt.in)); got != tt.want {
			t.Errorf("sourceHash(%q) = %#x, want %#x", tt.in, got, tt.want)
		}
	}
	var got []int
	for i := range 40 {
		if inValidation(sourceHash(fmt.Appendf(nil, "s3://reviewlens-photos/pin/%d.jpg", i)), 42, 0.25) {
			got = append(got, i)
		}
	}
	want := pinnedValidation
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("validation lines of the pinned refs = %v, want %v", got, want)
	}
}

// pinnedValidation: which of s3://reviewlens-photos/pin/<i>.jpg, i < 40,
// go to validation with seed 42 and fraction 0.25.
var pinnedValidation = []int{3, 5, 6, 7, 20, 21, 22, 23, 24, 26, 27, 29}

// The table's layout and growth policy are its own business; what it
// answers is checked against a Go map.
func TestHashSetAgainstMap(t *testing.T) {
	tests := []struct {
		name string
		gen  func(rng *rand.Rand) uint64
	}{
		{"random", func(rng *rand.Rand) uint64 { return rng.Uint64() }},
		{"small pool, many repeats", func(rng *rand.Rand) uint64 { return rng.Uint64() % 3000 * 0x9E3779B97F4A7C15 }},
		{"same low bits", func(rng *rand.Rand) uint64 { return rng.Uint64N(5000) << 40 }},
		{"same high bits", func(rng *rand.Rand) uint64 { return 0xABCD<<48 | rng.Uint64N(4000) }},
		{"zero and one", func(rng *rand.Rand) uint64 { return rng.Uint64N(2) }},
		{"all ones", func(rng *rand.Rand) uint64 { return math.MaxUint64 - rng.Uint64N(3) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 4))
			var s hashSet
			model := map[uint64]uint64{} // key -> the value it was first added with
			for i := range 20_000 {
				h := tt.gen(rng)
				key := h
				if key == 0 {
					key = 1 // hashSet stores a hash of 0 as 1
				}
				wantVal, wantDup := model[key]
				if !wantDup {
					model[key] = uint64(i)
				}
				dup, val := s.add(h, uint64(i))
				if dup != wantDup {
					t.Fatalf("add %#x (#%d): dup = %v, want %v", h, i, dup, wantDup)
				}
				if dup && val != wantVal {
					t.Fatalf("add %#x (#%d): value %d, want %d (the first)", h, i, val, wantVal)
				}
				if s.n != len(model) || s.n > len(s.keys) {
					t.Fatalf("after %d adds: n = %d in %d slots, want %d", i+1, s.n, len(s.keys), len(model))
				}
			}
			for h, v := range model {
				if dup, val := s.add(h, 0); !dup || val != v {
					t.Fatalf("%#x lost or its value changed: dup %v, value %d, want %d", h, dup, val, v)
				}
				s.set(h, v+1)
				if _, val := s.add(h, 0); val != v+1 {
					t.Fatalf("%#x: set to %d, then read %d", h, v+1, val)
				}
			}
		})
	}
}

func TestHashSetGrowth(t *testing.T) {
	var s hashSet
	added := make([]uint64, 0, 200_000)
	grew := 0
	for i := range uint64(200_000) {
		h := (i + 1) * 0x9E3779B97F4A7C15
		before := len(s.keys)
		if dup, _ := s.add(h, i); dup {
			t.Fatalf("key #%d reported as a duplicate", i)
		}
		added = append(added, h)
		if len(s.keys) < before {
			t.Fatalf("table shrank from %d to %d slots", before, len(s.keys))
		}
		if len(s.keys) > before {
			grew++
			// Every key added so far survives the move.
			for _, old := range added {
				if dup, _ := s.add(old, 0); !dup {
					t.Fatalf("after growing to %d slots, key %#x lost", len(s.keys), old)
				}
			}
		}
		if s.n >= len(s.keys) {
			t.Fatalf("%d keys in %d slots: no free slot left", s.n, len(s.keys))
		}
	}
	if grew < 5 {
		t.Errorf("table grew %d times for 200,000 keys", grew)
	}
	if got, want := s.n, 200_000; got != want {
		t.Errorf("n = %d, want %d", got, want)
	}
}
