package manifest

import (
	"github.com/reviewlens/reviewlens/internal/golden"

	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestConvertGolden pins what the writers produce on a small manifest: the
// augmented manifests, the .lst files and the rejected lines. Refresh with
// go test ./manifest -run TestConvertGolden -update.
func TestConvertGolden(t *testing.T) {
	in, err := os.ReadFile("testdata/golden/input.manifest")
	if err != nil {
		t.Fatal(err)
	}
	classes, err := NewClassMap("product", "packaging", "full-length", "half-length")
	if err != nil {
		t.Fatal(err)
	}
	var labels, train, val, trainLst, valLst, rejected bytes.Buffer
	sum, err := Convert(context.Background(), bytes.NewReader(in), ConvertOptions{
		Options:            Options{Classes: classes},
		ValidationFraction: 0.4,
		Seed:               1,
		LstPath:            func(src string) string { return strings.TrimPrefix(src, "s3://") },
	}, Outputs{Labels: &labels, Train: &train, Validation: &val, TrainLst: &trainLst, ValidationLst: &valLst, Rejected: &rejected})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Train == 0 || sum.Validation == 0 {
		t.Fatalf("split %d/%d: the golden files should show both splits", sum.Train, sum.Validation)
	}
	for name, got := range map[string][]byte{
		"train.manifest":      train.Bytes(),
		"validation.manifest": val.Bytes(),
		"train.lst":           trainLst.Bytes(),
		"validation.lst":      valLst.Bytes(),
		"rejected.jsonl":      rejected.Bytes(),
	} {
		path := filepath.Join("testdata", "golden", name)
		if golden.Update() {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to create it)", err)
		}
		if diff := cmp.Diff(string(want), string(got)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
}
