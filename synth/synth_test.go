package synth

import (
	"bytes"
	"context"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/reviewlens/reviewlens/inspect"
	"github.com/reviewlens/reviewlens/manifest"
)

// readTree returns every file under dir by its slash path.
func readTree(tb testing.TB, dir string) map[string][]byte {
	tb.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		files[filepath.ToSlash(rel)] = data
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return files
}

func TestPhotoDeterministic(t *testing.T) {
	for c := range NumClasses {
		a, ia := Photo(rand.New(rand.NewPCG(9, uint64(c))), Class(c), Options{HardFraction: 0.5})
		b, ib := Photo(rand.New(rand.NewPCG(9, uint64(c))), Class(c), Options{HardFraction: 0.5})
		if !bytes.Equal(a.Pix, b.Pix) || ia != ib {
			t.Errorf("%v: two photos from the same seed differ", Class(c))
		}
		o, _ := Photo(rand.New(rand.NewPCG(10, uint64(c))), Class(c), Options{})
		if bytes.Equal(a.Pix, o.Pix) {
			t.Errorf("%v: photos from different seeds are the same", Class(c))
		}
	}
}

func TestPhotoDifficulty(t *testing.T) {
	const n = 2000
	hard := map[Class]int{}
	kinds := map[Difficulty]int{}
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range n {
		c := Class(i % NumClasses)
		img, info := Photo(rng, c, Options{Size: 32})
		if got := img.Bounds().Dx(); got != 32 {
			t.Fatalf("photo is %d pixels wide, want 32", got)
		}
		if info.Class != c || info.Quality < 50 || info.Quality > 95 {
			t.Fatalf("info %+v for a %v photo", info, c)
		}
		if info.Difficulty != Easy {
			hard[c]++
			kinds[info.Difficulty]++
		}
		if info.Difficulty == Cropped && c != FullLength && c != HalfLength {
			t.Fatalf("a %v photo cropped near the full-length line", c)
		}
	}
	for c := range NumClasses {
		if share := float64(hard[Class(c)]) / (n / NumClasses); share < 0.06 || share > 0.14 {
			t.Errorf("%v: %.3f of photos hard, want about 0.1", Class(c), share)
		}
	}
	for _, d := range []Difficulty{Occluded, Cropped, Blurred} {
		if kinds[d] == 0 {
			t.Errorf("no %v photo in %d", d, n)
		}
	}
	_, info := Photo(rng, Package, Options{Difficulty: Cropped})
	if info.Difficulty != Occluded {
		t.Errorf("a package asked to be cropped is %v, want occluded", info.Difficulty)
	}
	_, info = Photo(rng, Package, Options{HardFraction: -1, Difficulty: AnyDifficulty})
	if info.Difficulty != Easy {
		t.Errorf("HardFraction -1 gave a %v photo", info.Difficulty)
	}
}

func TestWriteLabelled(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	const n = 203
	opts := LabelledOptions{Options: Options{Size: 48}, BaseURI: "s3://demo-bucket/labelled/"}
	got, err := WriteLabelled(ctx, filepath.Join(dir, "a"), n, 42, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got.Photos != n || got.Human+got.Auto != n {
		t.Errorf("wrote %d photos, %d human and %d auto lines, want %d", got.Photos, got.Human, got.Auto, n)
	}
	if got.Auto == 0 || got.Human == 0 || got.Hard == 0 {
		t.Errorf("%d auto, %d human lines and %d hard photos; want some of each", got.Auto, got.Human, got.Hard)
	}
	// Balanced: 203 = 4·50 + 3.
	if want := [NumClasses]int{51, 51, 51, 50}; got.ByClass != want {
		t.Errorf("photos by class %v, want %v", got.ByClass, want)
	}

	// Same seed, other worker count: the same bytes. Another seed: not.
	opts.Workers = 1
	if _, err := WriteLabelled(ctx, filepath.Join(dir, "b"), n, 42, opts); err != nil {
		t.Fatal(err)
	}
	a, b := readTree(t, filepath.Join(dir, "a")), readTree(t, filepath.Join(dir, "b"))
	if len(a) != n+3 {
		t.Errorf("%d files, want %d photos and 3 more", len(a), n)
	}
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("two sets from seed 42 differ (-first +second):\n%.2000s", diff)
	}
	if _, err := WriteLabelled(ctx, filepath.Join(dir, "c"), n, 43, opts); err != nil {
		t.Fatal(err)
	}
	c := readTree(t, filepath.Join(dir, "c"))
	if bytes.Equal(a["photos/000000.jpg"], c["photos/000000.jpg"]) || bytes.Equal(a[ManifestFile], c[ManifestFile]) {
		t.Error("sets from seeds 42 and 43 share a photo or a manifest")
	}

	// manifest reads the label categories and converts the manifest.
	classes, err := manifest.ParseLabelCategoryConfig(bytes.NewReader(a[CategoriesFile]))
	if err != nil {
		t.Fatal(err)
	}
	var labels, train, val, rejected bytes.Buffer
	sum, err := manifest.Convert(ctx, bytes.NewReader(a[ManifestFile]),
		manifest.ConvertOptions{Options: manifest.Options{Classes: classes}, ValidationFraction: 0.2, Seed: 1},
		manifest.Outputs{Labels: &labels, Train: &train, Validation: &val, Rejected: &rejected})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Attribute != "category" || sum.Train+sum.Validation != n || sum.Rejected() != 0 || sum.MultiLabel {
		t.Errorf("convert: attribute %q, %d train, %d validation, %d rejected (first %v); want category, %d photos, none rejected",
			sum.Attribute, sum.Train, sum.Validation, sum.Rejected(), sum.FirstBad, n)
	}
	for i, name := range ClassNames {
		converted := sum.TrainByClass[i] + sum.ValidationByClass[i]
		inManifest := strings.Count(string(a[ManifestFile]), `"class-name":"`+name+`"`)
		if converted != inManifest || converted != got.ByClass[i] {
			t.Errorf("class %s: %d converted, %d in the manifest, %d written", name, converted, inManifest, got.ByClass[i])
		}
	}
	rows, err := manifest.ReadLabels(ctx, bytes.NewReader(labels.Bytes()), "labels.parquet")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != n {
		t.Errorf("labels table has %d rows, want %d", len(rows), n)
	}
	// Human-only filtering keeps the human lines.
	sum, err = manifest.Convert(ctx, bytes.NewReader(a[ManifestFile]),
		manifest.ConvertOptions{Options: manifest.Options{Classes: classes, HumanOnly: true}},
		manifest.Outputs{Labels: &bytes.Buffer{}})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Train != got.Human {
		t.Errorf("human-only convert kept %d lines, want %d", sum.Train, got.Human)
	}

	// The truth agrees with the manifest and names photos that exist.
	truth, err := ReadTruth(bytes.NewReader(a[TruthFile]))
	if err != nil {
		t.Fatal(err)
	}
	if len(truth) != n {
		t.Fatalf("%d truth rows, want %d", len(truth), n)
	}
	for _, tr := range truth {
		rel := strings.TrimPrefix(tr.ImageURI, opts.BaseURI)
		if _, ok := a[rel]; !ok || rel == tr.ImageURI {
			t.Fatalf("truth names %s, not a photo written under %s", tr.ImageURI, opts.BaseURI)
		}
		if !strings.Contains(string(a[ManifestFile]), `"source-ref":"`+tr.ImageURI+`","category":`+itoa(int(tr.Class))+",") {
			t.Fatalf("the manifest does not label %s as %d", tr.ImageURI, tr.Class)
		}
	}
}

func itoa(i int) string { return string(rune('0' + i)) }

func TestWriteDay(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	day := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	const reviews = 300
	d, err := WriteDay(ctx, filepath.Join(dir, "a"), day, reviews, 7, DayOptions{Options: Options{Size: 40}})
	if err != nil {
		t.Fatal(err)
	}
	if d.ReviewCount != reviews || d.Photos < reviews || d.Photos > 3*reviews {
		t.Errorf("%d reviews with %d photos", d.ReviewCount, d.Photos)
	}
	if share := float64(d.Qualifying) / reviews; share < 0.4 || share > 0.6 {
		t.Errorf("%.2f of reviews qualify, want about half", share)
	}
	f, err := os.Open(d.Reviews)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, bad, err := inspect.ReadReviewsParquet(f, ReviewsParquet)
	if err != nil || len(bad) > 0 {
		t.Fatalf("read reviews: %v %v", err, bad)
	}
	if len(rows) != d.Photos {
		t.Fatalf("%d review rows, want %d", len(rows), d.Photos)
	}
	truthData, err := os.ReadFile(d.Truth)
	if err != nil {
		t.Fatal(err)
	}
	truth, err := ReadTruth(bytes.NewReader(truthData))
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	types := map[string]int{}
	qualifies := map[string]bool{}
	for i, r := range rows {
		tr := truth[i]
		if tr.ImageURI != r.ImageURI || tr.ReviewID != r.ReviewID || tr.ImageIndex != r.ImageIndex {
			t.Fatalf("row %d: review %s/%d %s, truth %s/%d %s", i, r.ReviewID, r.ImageIndex, r.ImageURI, tr.ReviewID, tr.ImageIndex, tr.ImageURI)
		}
		if !filepath.IsAbs(r.ImageURI) {
			t.Fatalf("image_uri %s is not an absolute path", r.ImageURI)
		}
		if _, err := os.Stat(r.ImageURI); err != nil {
			t.Fatal(err)
		}
		if !r.CreatedAt.Equal(r.CreatedAt.Truncate(time.Microsecond)) || r.CreatedAt.Before(day) || !r.CreatedAt.Before(day.Add(24*time.Hour)) {
			t.Fatalf("created_at %v outside %v", r.CreatedAt, day)
		}
		if !ids[r.ReviewID] {
			types[r.ReviewType]++
		}
		ids[r.ReviewID] = true
		want := Product
		if r.ReviewType == inspect.StyleReview {
			want = FullLength
		}
		if tr.Class == want {
			qualifies[r.ReviewID] = true
		}
	}
	if len(ids) != reviews || len(qualifies) != d.Qualifying {
		t.Errorf("%d reviews, %d qualifying by the truth; WriteDay says %d and %d", len(ids), len(qualifies), reviews, d.Qualifying)
	}
	if types[inspect.ProductReview] < 100 || types[inspect.StyleReview] < 100 {
		t.Errorf("review types %v, want about half each", types)
	}

	// CSV, a base URI, another worker count: the same photos and rows.
	e, err := WriteDay(ctx, filepath.Join(dir, "b"), day, reviews, 7, DayOptions{Options: Options{Size: 40}, CSV: true, BaseURI: "s3://bucket/day/", Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	g, err := os.Open(e.Reviews)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	csvRows, bad, err := inspect.ReadReviewsCSV(g, ReviewsCSV)
	if err != nil || len(bad) > 0 {
		t.Fatalf("read reviews.csv: %v %v", err, bad)
	}
	for i := range csvRows {
		rel := strings.TrimPrefix(rows[i].ImageURI, filepath.ToSlash(filepath.Join(dir, "a"))+"/")
		if want := "s3://bucket/day/" + rel; csvRows[i].ImageURI != want {
			t.Fatalf("csv row %d: image_uri %s, want %s", i, csvRows[i].ImageURI, want)
		}
		csvRows[i].ImageURI = rows[i].ImageURI
	}
	if diff := cmp.Diff(rows, csvRows); diff != "" {
		t.Errorf("CSV rows differ from Parquet rows (-parquet +csv):\n%s", diff)
	}
	pa, pb := readTree(t, filepath.Join(dir, "a", PhotosDir)), readTree(t, filepath.Join(dir, "b", PhotosDir))
	if diff := cmp.Diff(pa, pb); diff != "" {
		t.Error("photos of the same day and seed differ")
	}
	again, err := WriteDay(ctx, filepath.Join(dir, "c"), day, reviews, 7, DayOptions{Options: Options{Size: 40}})
	if err != nil {
		t.Fatal(err)
	}
	// Written again to the same folder, the day is the same bytes.
	before := readTree(t, filepath.Join(dir, "a"))
	if err := os.RemoveAll(filepath.Join(dir, "a")); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteDay(ctx, filepath.Join(dir, "a"), day, reviews, 7, DayOptions{Options: Options{Size: 40}, Workers: 3}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, readTree(t, filepath.Join(dir, "a"))); diff != "" {
		t.Errorf("the same day written twice differs:\n%.2000s", diff)
	}
	// In another folder the image_uris differ; the rows are otherwise the same.
	h, _ := os.Open(again.Reviews)
	defer h.Close()
	rows2, _, err := inspect.ReadReviewsParquet(h, ReviewsParquet)
	if err != nil {
		t.Fatal(err)
	}
	for i := range rows2 {
		rows2[i].ImageURI = strings.Replace(rows2[i].ImageURI, "/c/", "/a/", 1)
	}
	if diff := cmp.Diff(rows, rows2); diff != "" {
		t.Errorf("two days from the same seed differ:\n%s", diff)
	}
	if _, err := WriteDay(ctx, filepath.Join(dir, "d"), day.AddDate(0, 0, 1), 5, 7, DayOptions{Options: Options{Size: 40}}); err != nil {
		t.Fatal(err)
	}
	od := readTree(t, filepath.Join(dir, "d", PhotosDir))
	if bytes.Equal(od["r-20261129-000001-0.jpg"], pa["r-20261128-000001-0.jpg"]) {
		t.Error("the next day repeats the first photo")
	}
}
