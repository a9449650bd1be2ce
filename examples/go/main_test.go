package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/reviewlens/reviewlens/credit/credittest"
	"github.com/reviewlens/reviewlens/manifest"
)

// TestExample builds the example and runs it on a day whose photos a
// perfectly calibrated model classified (credittest's world): it
// calibrates, decides every review, grants some automatically and stores
// every decision in the ledger.
func TestExample(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "example")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	data := filepath.Join(dir, "data")
	world := credittest.Calibrated()
	rng := rand.New(rand.NewPCG(1, 2))
	var jpg bytes.Buffer
	if err := jpeg.Encode(&jpg, image.NewGray(image.Rect(0, 0, 8, 8)), nil); err != nil {
		t.Fatal(err)
	}
	write := func(path string, data []byte) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// photos writes n photos of the world under folder, their .out files
	// and reviews.csv (review types taking turns through types), and
	// returns the photos by path.
	photos := func(folder string, n int, types ...string) map[string]credittest.Photo {
		var csv strings.Builder
		csv.WriteString("review_id,review_type,image_uri,image_index,user_id,product_id,created_at\n")
		out := map[string]credittest.Photo{}
		for i, ph := range world.Photos(rng, n) {
			name := fmt.Sprintf("r-%05d.jpg", i)
			path := filepath.Join(folder, "photos", name)
			write(path, jpg.Bytes())
			pred, _ := json.Marshal(map[string][]float64{"prediction": ph.Probabilities})
			write(filepath.Join(folder, "outputs", name+".out"), pred)
			fmt.Fprintf(&csv, "r-%05d,%s,%s,0,u,p,2026-11-28T10:00:00Z\n", i, types[i%len(types)], path)
			out[path] = ph
		}
		write(filepath.Join(folder, "reviews.csv"), []byte(csv.String()))
		return out
	}
	var labels []manifest.LabelRow
	for path, ph := range photos(filepath.Join(data, "calibration"), 3000, "product") {
		labels = append(labels, manifest.LabelRow{SourceRef: path, Label: ph.True, ClassName: world.Classes[ph.True], Confidence: math.NaN(), Split: manifest.SplitValidation})
	}
	var buf bytes.Buffer
	if err := manifest.WriteLabels(&buf, labels); err != nil {
		t.Fatal(err)
	}
	write(filepath.Join(data, "labels", manifest.FileLabels), buf.Bytes())
	cm, err := manifest.NewClassMap(world.Classes...)
	if err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	if err := cm.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	write(filepath.Join(data, "labels", manifest.FileClasses), buf.Bytes())
	write(filepath.Join(data, "labels", manifest.FileLabelsSample), []byte(`{"sample": "random", "photos": 3000}`))
	photos(data, 400, "product", "style")

	out, err := exec.Command(bin, "-data", data).CombinedOutput()
	if err != nil {
		t.Fatalf("example: %v\n%s", err, out)
	}
	t.Logf("example printed:\n%s", out)
	m := regexp.MustCompile(`2026-11-28: 400 reviews, (\d+) granted, (\d+) rejected, (\d+) to a person`).FindStringSubmatch(string(out))
	if m == nil || !strings.Contains(string(out), "calibration: 3000 photos classified") || !strings.Contains(string(out), "ledger: 400 decisions stored") {
		t.Fatalf("example printed:\n%s\nwant the calibration, the day's decisions and 400 decisions stored", out)
	}
	if granted, _ := strconv.Atoi(m[1]); granted == 0 {
		t.Errorf("example printed:\n%s\nwant some reviews granted automatically", out)
	}
	db, err := sql.Open("sqlite", filepath.Join(data, "out", "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM decisions").Scan(&n); err != nil || n != 400 {
		t.Errorf("ledger: %d decisions, %v; want 400", n, err)
	}
}
