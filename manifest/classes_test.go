package manifest

import (
	"github.com/reviewlens/reviewlens/internal/golden"

	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

var categoryNames = []string{"product", "packaging", "full-length", "half-length"}

func TestParseLabelCategoryConfig(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		file    string // under testdata, instead of input
		want    []string
		wantErr string
	}{
		{name: "with document-version", file: "label-category-config.json", want: categoryNames},
		{name: "without document-version", file: "label-category-config-nodoc.json", want: categoryNames},
		{name: "AWS doc snippet, comma missing", file: "label-category-config-invalid.json", wantErr: `label category config: invalid character '"' after object key:value pair`},
		{name: "byte-order mark", input: "\xef\xbb\xbf" + `{"labels":[{"label":"a"},{"label":"b"}]}`, want: []string{"a", "b"}},
		{name: "other keys ignored", input: `{"document-version":"2018-11-28","instructions":{"shortInstruction":"x"},"labels":[{"label":"a","color":"#ff0000"},{"label":"b"}]}`, want: []string{"a", "b"}},
		{name: "names kept verbatim", input: `{"labels":[{"label":" half length "},{"label":"Ärmel"},{"label":"a,b"}]}`, want: []string{" half length ", "Ärmel", "a,b"}},
		{name: "no labels", input: `{"document-version":"2018-11-28"}`, wantErr: `label category config: no "labels" list`},
		{name: "labels null", input: `{"labels":null}`, wantErr: `no "labels" list`},
		{name: "labels empty", input: `{"labels":[]}`, wantErr: `no "labels" list`},
		{name: "label missing", input: `{"labels":[{"label":"a"},{"name":"b"}]}`, wantErr: `label category config: labels[1]: no "label"`},
		{name: "label null", input: `{"labels":[{"label":null}]}`, wantErr: `labels[0]: no "label"`},
		{name: "empty label", input: `{"labels":[{"label":"a"},{"label":""}]}`, wantErr: "label category config: labels[1]: empty name"},
		{name: "duplicate names", input: `{"labels":[{"label":"a"},{"label":"b"},{"label":"a"}]}`, wantErr: `label category config: labels[2]: name "a" already used by class 0`},
		{name: "label a number", input: `{"labels":[{"label":3}]}`, wantErr: "label category config: json: cannot unmarshal number"},
		{name: "cut off", input: `{"labels":[{"label":"a"}`, wantErr: "label category config: unexpected EOF"},
		{name: "empty", input: "", wantErr: "label category config: EOF"},
		{name: "not an object", input: `["a","b"]`, wantErr: "label category config: json: cannot unmarshal array"},
		{name: "data after the object", input: `{"labels":[{"label":"a"},{"label":"b"}]} {"labels":[]}`, wantErr: "label category config: data after the object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r io.Reader = strings.NewReader(tt.input)
			if tt.file != "" {
				r = openFixture(t, tt.file)
			}
			m, err := ParseLabelCategoryConfig(r)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, m.Names()); diff != "" {
				t.Errorf("names (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseLabelCategoryConfigReadError(t *testing.T) {
	errRead := errors.New("connection reset")
	if _, err := ParseLabelCategoryConfig(iotest.ErrReader(errRead)); !errors.Is(err, errRead) {
		t.Errorf("error = %v, want %v", err, errRead)
	}
}

func TestParseClassList(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		want    []string
		wantErr string
	}{
		{name: "plain", input: "product,packaging,full-length,half-length", want: categoryNames},
		{name: "spaces trimmed", input: " product , packaging,\tfull-length ,half-length ", want: categoryNames},
		{name: "inner spaces kept", input: "half length,full length", want: []string{"half length", "full length"}},
		{name: "one class", input: "product", want: []string{"product"}},
		{name: "empty", input: "", wantErr: "class 0: empty name"},
		{name: "empty in the middle", input: "a,,b", wantErr: "class 1: empty name"},
		{name: "trailing comma", input: "a,b,", wantErr: "class 2: empty name"},
		{name: "blank name", input: "a, ,b", wantErr: "class 1: empty name"},
		{name: "duplicate", input: "a,b,a", wantErr: `class 2: name "a" already used by class 0`},
		{name: "duplicate after trimming", input: "a,b, a", wantErr: `class 2: name "a" already used by class 0`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseClassList(tt.input)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, m.Names()); diff != "" {
				t.Errorf("names (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadClasses(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		file    string
		want    []string
		wantErr string
	}{
		{name: "config", file: "label-category-config.json", want: categoryNames},
		{name: "config without document-version", file: "label-category-config-nodoc.json", want: categoryNames},
		{name: "config, invalid", file: "label-category-config-invalid.json", wantErr: "label category config: invalid character"},
		{name: "config after blank space and BOM", input: "\xef\xbb\xbf\n  " + `{"labels":[{"label":"a"},{"label":"b"}]}` + "\n", want: []string{"a", "b"}},
		{name: "list", input: "product,packaging,full-length,half-length\n", want: categoryNames},
		{name: "list with BOM and CRLF", input: "\xef\xbb\xbfproduct, packaging, full-length, half-length\r\n", want: categoryNames},
		{name: "list, duplicate", input: "a,a", wantErr: `class 1: name "a" already used by class 0`},
		{name: "empty", input: "", wantErr: "class 0: empty name"},
		{name: "golden file", file: "classes.golden.json", want: categoryNames},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r io.Reader = strings.NewReader(tt.input)
			if tt.file != "" {
				r = openFixture(t, tt.file)
			}
			m, err := ReadClasses(r)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, m.Names()); diff != "" {
				t.Errorf("names (-want +got):\n%s", diff)
			}
		})
	}
}

func TestClassMapWriteJSON(t *testing.T) {
	m := categoryClasses(t)
	var buf bytes.Buffer
	if err := m.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "classes.golden.json", buf.Bytes())
}

func TestClassMapWriteJSONRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		names []string
	}{
		{"categories", categoryNames},
		{"awkward names", []string{`say "cheese"`, `back\slash`, "<none>", "a & b", "Ärmel", "tab\there", " padded ", "a,b"}},
		{"many", manyNames(300)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := NewClassMap(tt.names...)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := m.WriteJSON(&buf); err != nil {
				t.Fatal(err)
			}
			back, err := ParseLabelCategoryConfig(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatalf("reading back %s: %v", buf.Bytes(), err)
			}
			if diff := cmp.Diff(tt.names, back.Names()); diff != "" {
				t.Errorf("names after a round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func manyNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("class-%03d", i)
	}
	return names
}

func TestClassMapAccessors(t *testing.T) {
	m := categoryClasses(t)
	if got, want := m.Len(), 4; got != want {
		t.Errorf("Len() = %d, want %d", got, want)
	}
	if got, want := m.Name(2), "full-length"; got != want {
		t.Errorf("Name(2) = %q, want %q", got, want)
	}
	tests := []struct {
		name   string
		want   int
		wantOK bool
	}{
		{"product", 0, true},
		{"half-length", 3, true},
		{"Product", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		i, ok := m.Index(tt.name)
		if i != tt.want || ok != tt.wantOK {
			t.Errorf("Index(%q) = %d, %v, want %d, %v", tt.name, i, ok, tt.want, tt.wantOK)
		}
	}
	names := m.Names()
	names[0] = "changed"
	if got, want := m.Name(0), "product"; got != want {
		t.Errorf("after changing Names()[0], Name(0) = %q, want %q", got, want)
	}
}

func TestNewClassMapCopies(t *testing.T) {
	names := []string{"a", "b"}
	m, err := NewClassMap(names...)
	if err != nil {
		t.Fatal(err)
	}
	names[0] = "changed"
	if got, want := m.Name(0), "a"; got != want {
		t.Errorf("Name(0) = %q, want %q", got, want)
	}
}
