package inspect

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reviewlens/reviewlens/internal/golden"
)

func TestWriteTransformManifestGolden(t *testing.T) {
	keys := []string{"r1/0.jpg", "r1/1.png", "a&b <c>/ü ñ.jpg", `quote"d.jpg`}
	var buf bytes.Buffer
	if err := WriteTransformManifest(&buf, "s3://photos/in/dt=2026-11-28/", keys); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "transform.manifest.golden", buf.String())

	// It is one JSON array, as SageMaker reads it.
	var arr []any
	if err := json.Unmarshal(buf.Bytes(), &arr); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	want := []any{map[string]any{"prefix": "s3://photos/in/dt=2026-11-28/"}}
	for _, k := range keys {
		want = append(want, k)
	}
	if diff := cmp.Diff(want, arr); diff != "" {
		t.Errorf("decoded (-want +got):\n%s", diff)
	}
	prefix, got, err := ReadTransformManifest(bytes.NewReader(buf.Bytes()))
	if err != nil || prefix != "s3://photos/in/dt=2026-11-28/" {
		t.Fatalf("ReadTransformManifest: %q, %v", prefix, err)
	}
	if diff := cmp.Diff(keys, got); diff != "" {
		t.Errorf("keys read back (-want +got):\n%s", diff)
	}
}

func TestWriteTransformManifestErrors(t *testing.T) {
	tests := []struct {
		name   string
		prefix string
		keys   []string
		want   string
	}{
		{"prefix without slash", "s3://photos/in/dt=2026-11-28", []string{"a.jpg"}, `prefix "s3://photos/in/dt=2026-11-28", want one ending in /`},
		{"empty prefix", "", []string{"a.jpg"}, `prefix "", want one ending in /`},
		{"empty key", "s3://b/p/", []string{"a.jpg", ""}, "key 2 is empty"},
		{"absolute key", "s3://b/p/", []string{"/a.jpg"}, `key 1 "/a.jpg" starts with /`},
		{"key twice", "s3://b/p/", []string{"a.jpg", "b.jpg", "a.jpg"}, `key "a.jpg" listed twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := WriteTransformManifest(&buf, tt.prefix, tt.keys)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one with %q", err, tt.want)
			}
			if buf.Len() > 0 {
				t.Errorf("wrote %q despite the error", buf.String())
			}
		})
	}
}

func TestReadTransformManifestErrors(t *testing.T) {
	for name, in := range map[string]string{
		"not JSON":        "s3://b/p/a.jpg\n",
		"empty array":     "[]",
		"no prefix":       `["a.jpg"]`,
		"key not string":  `[{"prefix":"s3://b/p/"}, 3]`,
		"object not list": `{"prefix":"s3://b/p/"}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, _, err := ReadTransformManifest(strings.NewReader(in)); err == nil {
				t.Errorf("no error reading %q", in)
			}
		})
	}
}

func TestCommonPrefix(t *testing.T) {
	tests := []struct {
		name   string
		uris   []string
		prefix string // "" = none
	}{
		{"no photos", nil, ""},
		{"one photo", []string{"s3://photos/2026/11/28/r1.jpg"}, "s3://photos/2026/11/28/"},
		{"one photo at the root", []string{"s3://photos/r1.jpg"}, "s3://photos/"},
		{"same folder", []string{"s3://photos/d/r1.jpg", "s3://photos/d/r2.jpg", "s3://photos/d/r3.png"}, "s3://photos/d/"},
		{"nested", []string{"s3://photos/d/a/r1.jpg", "s3://photos/d/b/c/r2.jpg", "s3://photos/d/r3.jpg"}, "s3://photos/d/"},
		{"shared name start", []string{"s3://photos/day-1/r1.jpg", "s3://photos/day-10/r1.jpg"}, "s3://photos/"},
		{"object and folder of that name", []string{"s3://photos/d/x.jpg", "s3://photos/d/x.jpg/y.jpg"}, "s3://photos/d/"},
		{"only the bucket", []string{"s3://photos/a/r1.jpg", "s3://photos/b/r2.jpg"}, "s3://photos/"},
		{"different buckets", []string{"s3://photos/d/r1.jpg", "s3://archive/d/r2.jpg"}, ""},
		{"bucket names share a start", []string{"s3://photos/d/r1.jpg", "s3://photos2/d/r1.jpg"}, ""},
		{"local absolute", []string{"/data/photos/d/r1.jpg", "/data/photos/e/r2.jpg"}, "/data/photos/"},
		{"local root", []string{"/r1.jpg", "/data/r2.jpg"}, "/"},
		{"local relative", []string{"photos/d/r1.jpg", "photos/d/r2.jpg"}, "photos/d/"},
		{"relative, working directory", []string{"r1.jpg", "photos/r2.jpg"}, ""},
		{"absolute and relative", []string{"/data/r1.jpg", "data/r2.jpg"}, ""},
		{"S3 and local", []string{"s3://photos/r1.jpg", "/photos/r2.jpg"}, ""},
		{"a folder", []string{"s3://photos/d/", "s3://photos/d/r1.jpg"}, ""},
		{"another scheme", []string{"https://cdn/r1.jpg"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prefix, ok := CommonPrefix(tt.uris)
			if prefix != tt.prefix || ok != (tt.prefix != "") {
				t.Fatalf("CommonPrefix(%q) = %q, %v; want %q, %v", tt.uris, prefix, ok, tt.prefix, tt.prefix != "")
			}
			for _, u := range tt.uris {
				if ok && (!strings.HasPrefix(u, prefix) || len(u) == len(prefix)) {
					t.Errorf("%q is not %q + a key", u, prefix)
				}
			}
		})
	}
}

// FuzzReadReviewsCSV checks that no input panics the reader and that every
// row it keeps is valid and unique.
func FuzzReadReviewsCSV(f *testing.F) {
	for _, name := range []string{"testdata/reviews.csv", "testdata/reviews-bad.csv"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("review_id,review_type,image_uri,image_index,user_id,product_id,created_at\r\n\"r\n1\",style,\"s3://b/k,1\",0,,,\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		reviews, bad, err := ReadReviewsCSV(bytes.NewReader(data), "fuzz.csv")
		if err != nil {
			if reviews != nil || bad != nil {
				t.Fatalf("rows returned with error %v", err)
			}
			return
		}
		seen := map[photoKey]bool{}
		for _, r := range reviews {
			if col, reason := checkReview(&r); reason != "" {
				t.Errorf("kept an invalid row %+v: %s: %s", r, col, reason)
			}
			k := photoKey{r.ReviewID, r.ImageIndex}
			if seen[k] {
				t.Errorf("kept %v twice", k)
			}
			seen[k] = true
		}
		for _, e := range bad {
			if e.Row < 1 || e.Reason == "" {
				t.Errorf("row error without row or reason: %+v", e)
			}
		}
	})
}
