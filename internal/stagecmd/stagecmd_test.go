package stagecmd_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reviewlens/reviewlens/inspect"
	"github.com/reviewlens/reviewlens/internal/cli"
	"github.com/reviewlens/reviewlens/internal/stagecmd"
	"github.com/reviewlens/reviewlens/internal/testenv"
	"github.com/reviewlens/reviewlens/storage"
)

const day = "2026-11-28"

// run runs the stage step as `reviewlens stage ARGS` and returns the exit
// code, stdout and stderr.
func run(tb testing.TB, args ...string) (int, string, string) {
	tb.Helper()
	var stdout, stderr bytes.Buffer
	app := cli.App("reviewlens", "test", cli.Command(stagecmd.Step))
	code := cli.Run(context.Background(), app, append([]string{"reviewlens", "stage", "--log-format", "json"}, args...), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func result(tb testing.TB, stdout string) inspect.StageResult {
	tb.Helper()
	var res inspect.StageResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		tb.Fatalf("stdout is not the result JSON: %v\n%s", err, stdout)
	}
	return res
}

func writeFile(tb testing.TB, path string, data []byte) {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		tb.Fatal(err)
	}
}

// Photo contents. Photos with a .jpg, .jpeg or .png extension pass on their
// name; the others are judged by their first bytes.
var (
	pngBytes = append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{7}, 100)...)
	gifBytes = append([]byte("GIF89a"), bytes.Repeat([]byte{1}, 100)...)
	bigJPEG  = bytes.Repeat([]byte{0xff}, 1_500_000) // above --max-payload-mb 1
)

// photoSet is a day's photos: the good ones and one of each way to fail.
type photoSet struct {
	csv      string            // reviews.csv, with image_uri relative to the photos' root
	files    map[string][]byte // photo name -> content; absent = missing
	good     map[string]string // review/index -> content type, of the staged photos
	rejected map[string]string // review/index -> reason (bad rows by row number: row<N>)
}

func dayPhotos(withBadRow bool) photoSet {
	csv := "review_id,review_type,image_uri,image_index,user_id,product_id,created_at\n" +
		"r1,product,{root}a/r1-0.jpg,0,u1,p1,2026-11-28T09:30:00Z\n" +
		"r1,product,{root}a/r1-1.PNG,1,u1,p1,2026-11-28T09:30:00Z\n" +
		"r2,style,{root}b/c/r2-0.jpeg,0,u2,,\n" +
		"r3,style,{root}big.jpg,0,u3,p3,\n" +
		"r3,style,{root}b/r3-1,1,u3,p3,\n" + // PNG without an extension
		"r4,product,{root}anim.gif,0,u4,p4,\n" +
		"r4,product,{root}missing.jpg,1,u4,p4,\n" +
		"r5,product,{root}empty.jpg,0,u5,p5,\n" +
		"r0,style,{root}a/r0-0.jpg,0,u0,p0,\n"
	set := photoSet{
		files: map[string][]byte{
			"a/r1-0.jpg": []byte("jpeg r1-0"), "a/r1-1.PNG": pngBytes, "b/c/r2-0.jpeg": []byte("jpeg r2-0"),
			"big.jpg": bigJPEG, "b/r3-1": pngBytes, "anim.gif": gifBytes, "empty.jpg": {}, "a/r0-0.jpg": []byte("jpeg r0-0"),
		},
		good: map[string]string{"r0/0": "image/jpeg", "r1/0": "image/jpeg", "r1/1": "image/png", "r2/0": "image/jpeg", "r3/1": "image/png"},
		rejected: map[string]string{
			"r3/0": inspect.ReasonTooLarge, "r4/0": inspect.ReasonUnsupported, "r4/1": inspect.ReasonMissing, "r5/0": inspect.ReasonEmpty,
		},
	}
	if withBadRow {
		csv += "r6,video,{root}a/r6-0.jpg,0,u6,p6,\n" + "r1,product,{root}a/r1-0.jpg,0,u1,p1,\n"
		set.rejected["r6/0"] = inspect.ReasonBadRow
		set.rejected["r1/0#dup"] = inspect.ReasonDuplicate
	}
	set.csv = csv
	return set
}

// rejectedLines reads rejected.jsonl as review/index -> reason.
func rejectedLines(tb testing.TB, data []byte) map[string]string {
	tb.Helper()
	got := map[string]string{}
	for l := range strings.Lines(string(data)) {
		var r inspect.StageRejection
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			tb.Fatalf("rejected.jsonl line %q: %v", l, err)
		}
		if r.Reason == "" || r.Detail == "" || r.ImageURI == "" || r.ImageIndex == nil {
			tb.Errorf("rejected line without reason, detail, image_uri or image_index: %s", l)
			continue
		}
		key := fmt.Sprintf("%s/%d", r.ReviewID, *r.ImageIndex)
		if r.Reason == inspect.ReasonDuplicate {
			key += "#dup"
		}
		got[key] = r.Reason
	}
	return got
}

func readStaged(tb testing.TB, data []byte) []inspect.Staged {
	tb.Helper()
	rows, err := inspect.ReadStaged(bytes.NewReader(data), "staged.parquet")
	if err != nil {
		tb.Fatal(err)
	}
	return rows
}

func readManifest(tb testing.TB, data []byte) (string, []string) {
	tb.Helper()
	var arr []any
	if err := json.Unmarshal(data, &arr); err != nil {
		tb.Fatalf("input.manifest is not a JSON array: %v\n%s", err, data)
	}
	prefix, keys, err := inspect.ReadTransformManifest(bytes.NewReader(data))
	if err != nil {
		tb.Fatal(err)
	}
	return prefix, keys
}

// TestLocal stages a local folder of photos where they are: a good JPEG, a
// PNG with an upper-case extension, one with no extension, and one photo
// of each kind that fails.
func TestLocal(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "photos") + "/"
	set := dayPhotos(true)
	for name, data := range set.files {
		writeFile(t, root+name, data)
	}
	reviews := filepath.Join(dir, "reviews.csv")
	writeFile(t, reviews, []byte(strings.ReplaceAll(set.csv, "{root}", root)))
	out := filepath.Join(dir, "out")

	code, stdout, stderr := run(t, "--reviews", reviews, "--day", day, "--out", out, "--max-payload-mb", "1", "--on-bad-row", "skip")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	res := result(t, stdout)
	want := inspect.StageResult{
		Day:         day,
		Outputs:     map[string]string{"staged": filepath.Join(out, "staged.parquet"), "manifest": filepath.Join(out, "input.manifest"), "rejected": filepath.Join(out, "rejected.jsonl"), "summary": filepath.Join(out, "summary.json")},
		ManifestURI: filepath.Join(out, "input.manifest"), ManifestPrefix: root, StagedURI: filepath.Join(out, "staged.parquet"),
		Reviews: 7, Photos: 11, Staged: 5, ManifestKeys: 5, ReviewsWithoutPhoto: 3, Rejected: 6,
		RejectedByReason: map[string]int{"bad_row": 1, "duplicate": 1, "too_large": 1, "unsupported_type": 1, "missing": 1, "empty": 1},
		Bytes:            int64(len("jpeg r1-0") + len(pngBytes) + len("jpeg r2-0") + len(pngBytes) + len("jpeg r0-0")),
		MaxPayloadMB:     1,
	}
	res.ElapsedSeconds = 0
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}

	// staged.parquet: the good photos, by review then index, read where
	// they are.
	data, err := os.ReadFile(filepath.Join(out, inspect.FileStaged))
	if err != nil {
		t.Fatal(err)
	}
	rows := readStaged(t, data)
	var got []string
	for _, r := range rows {
		got = append(got, fmt.Sprintf("%s/%d %s %s %s %d", r.ReviewID, r.ImageIndex, r.ContentType, r.InputKey, r.OutputKey, r.SizeBytes))
		if r.InputURI != r.ImageURI || r.InputURI != root+r.InputKey || r.Day != day {
			t.Errorf("row %s/%d: image %s, input %s, key %s, day %s", r.ReviewID, r.ImageIndex, r.ImageURI, r.InputURI, r.InputKey, r.Day)
		}
	}
	wantRows := []string{
		"r0/0 image/jpeg a/r0-0.jpg a/r0-0.jpg.out 9",
		"r1/0 image/jpeg a/r1-0.jpg a/r1-0.jpg.out 9",
		"r1/1 image/png a/r1-1.PNG a/r1-1.PNG.out 108",
		"r2/0 image/jpeg b/c/r2-0.jpeg b/c/r2-0.jpeg.out 9",
		"r3/1 image/png b/r3-1 b/r3-1.out 108",
	}
	if diff := cmp.Diff(wantRows, got); diff != "" {
		t.Errorf("staged rows (-want +got):\n%s", diff)
	}
	if r := rows[1]; r.UserID != "u1" || r.ProductID != "p1" || r.CreatedAt.Format("2006-01-02T15:04:05Z07:00") != "2026-11-28T09:30:00Z" || r.ReviewType != "product" {
		t.Errorf("row r1/0 lost review values: %+v", r)
	}

	// rejected.jsonl: every photo not staged, with its reason.
	data, err = os.ReadFile(filepath.Join(out, inspect.FileRejected))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(set.rejected, rejectedLines(t, data)); diff != "" {
		t.Errorf("rejected (-want +got):\n%s", diff)
	}

	// input.manifest: the photos' common folder and each relative key.
	data, err = os.ReadFile(filepath.Join(out, inspect.FileTransformManifest))
	if err != nil {
		t.Fatal(err)
	}
	prefix, keys := readManifest(t, data)
	if prefix != root {
		t.Errorf("manifest prefix %q, want %q", prefix, root)
	}
	if diff := cmp.Diff([]string{"a/r0-0.jpg", "a/r1-0.jpg", "a/r1-1.PNG", "b/c/r2-0.jpeg", "b/r3-1"}, keys); diff != "" {
		t.Errorf("manifest keys (-want +got):\n%s", diff)
	}

	entries, _ := os.ReadDir(out)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if diff := cmp.Diff([]string{"input.manifest", "rejected.jsonl", "staged.parquet", "summary.json"}, names); diff != "" {
		t.Errorf("files in --out (-want +got):\n%s", diff)
	}
}

func TestFailOnBadRow(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "photos") + "/"
	set := dayPhotos(true)
	for name, data := range set.files {
		writeFile(t, root+name, data)
	}
	reviews := filepath.Join(dir, "reviews.csv")
	writeFile(t, reviews, []byte(strings.ReplaceAll(set.csv, "{root}", root)))
	out := filepath.Join(dir, "out")

	code, stdout, stderr := run(t, "--reviews", reviews, "--day", day, "--out", out, "--max-payload-mb", "1")
	if code != cli.ExitBadInput {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, cli.ExitBadInput, stderr)
	}
	if stdout != "" {
		t.Errorf("stdout = %q, want nothing", stdout)
	}
	for _, want := range []string{reviews + ": 2 bad rows", `row 10: review_type: got \"video\", want product or style`,
		`row 11: review \"r1\" photo 0 is also on row 1`, "--on-bad-row skip"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not mention %q:\n%s", want, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(out, inspect.FileStaged)); err == nil {
		t.Errorf("staged.parquet written although the step failed")
	}

	// Without bad rows, the photos that fail their checks fail the step.
	set = dayPhotos(false)
	writeFile(t, reviews, []byte(strings.ReplaceAll(set.csv, "{root}", root)))
	code, _, stderr = run(t, "--reviews", reviews, "--day", day, "--out", out, "--max-payload-mb", "1")
	if code != cli.ExitBadInput {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, cli.ExitBadInput, stderr)
	}
	for _, want := range []string{"4 photos failed their checks", "review r3 photo 0 (" + root + "big.jpg): too_large: 1500000 bytes, above --max-payload-mb 1",
		"review r4 photo 0 (" + root + "anim.gif): unsupported_type: .gif photo, want a JPEG or PNG photo", "review r4 photo 1 (" + root + "missing.jpg): missing",
		"review r5 photo 0 (" + root + "empty.jpg): empty"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not mention %q:\n%s", want, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(out, inspect.FileTransformManifest)); err == nil {
		t.Errorf("input.manifest written although the step failed")
	}
}

// TestLocalCopy copies local photos under a local input prefix, as for the
// local backend.
func TestLocalCopy(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "photos") + "/"
	set := dayPhotos(false)
	for name, data := range set.files {
		writeFile(t, root+name, data)
	}
	reviews := filepath.Join(dir, "reviews.csv")
	writeFile(t, reviews, []byte(strings.ReplaceAll(set.csv, "{root}", root)))
	out, input := filepath.Join(dir, "out"), filepath.Join(dir, "input")

	code, stdout, stderr := run(t, "--reviews", reviews, "--day", day, "--out", out, "--max-payload-mb", "1",
		"--on-bad-row", "skip", "--copy", "--input-prefix", input)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	res := result(t, stdout)
	wantPrefix := filepath.Join(input, "dt="+day) + "/"
	if res.ManifestPrefix != wantPrefix || res.Copied != 5 {
		t.Errorf("prefix %q, copied %d; want %q, 5", res.ManifestPrefix, res.Copied, wantPrefix)
	}
	data, err := os.ReadFile(filepath.Join(out, inspect.FileStaged))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, r := range readStaged(t, data) {
		keys = append(keys, r.InputKey)
		copied, err := os.ReadFile(r.InputURI)
		if err != nil {
			t.Errorf("copy of %s: %v", r.ImageURI, err)
			continue
		}
		if !bytes.Equal(copied, set.files[strings.TrimPrefix(r.ImageURI, root)]) {
			t.Errorf("copy %s of %s differs", r.InputURI, r.ImageURI)
		}
		if r.InputURI != wantPrefix+r.InputKey {
			t.Errorf("input %s is not prefix + key %s", r.InputURI, r.InputKey)
		}
	}
	// The PNG without an extension gets one.
	if diff := cmp.Diff([]string{"r0/0.jpg", "r1/0.jpg", "r1/1.png", "r2/0.jpeg", "r3/1.png"}, keys); diff != "" {
		t.Errorf("copied keys (-want +got):\n%s", diff)
	}
}

func TestBadFlags(t *testing.T) {
	dir := t.TempDir()
	reviews := filepath.Join(dir, "reviews.csv")
	writeFile(t, reviews, []byte("review_id,review_type,image_uri,image_index,user_id,product_id,created_at\n"))
	noColumn := filepath.Join(dir, "upstream.csv")
	writeFile(t, noColumn, []byte("review_id,review_type,image_uri,user_id,product_id,created_at\n"))
	out := filepath.Join(dir, "out")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no day", []string{"--reviews", reviews, "--out", out}, "missing required flag --day"},
		{"bad day", []string{"--reviews", reviews, "--out", out, "--day", "28/11/2026"}, `--day "28/11/2026": want a date YYYY-MM-DD`},
		{"impossible day", []string{"--reviews", reviews, "--out", out, "--day", "2026-02-30"}, `--day "2026-02-30"`},
		{"unknown bad-row", []string{"--reviews", reviews, "--out", out, "--day", day, "--on-bad-row", "ignore"}, `--on-bad-row "ignore": want fail or skip`},
		{"payload 0", []string{"--reviews", reviews, "--out", out, "--day", day, "--max-payload-mb", "0"}, "--max-payload-mb 0"},
		{"payload 101", []string{"--reviews", reviews, "--out", out, "--day", day, "--max-payload-mb", "101"}, "--max-payload-mb 101: want 1 to 100"},
		{"copy without prefix", []string{"--reviews", reviews, "--out", out, "--day", day, "--copy"}, "--copy: give --input-prefix"},
		{"https prefix", []string{"--reviews", reviews, "--out", out, "--day", day, "--input-prefix", "https://b/in/"}, "--input-prefix https://b/in/: want an s3:// URI or a local path"},
		{"missing reviews", []string{"--reviews", filepath.Join(dir, "nope.csv"), "--out", out, "--day", day}, "nope.csv: no such file"},
		{"missing column", []string{"--reviews", noColumn, "--out", out, "--day", day}, "upstream.csv: header: no column image_index"},
		{"no photo", []string{"--reviews", reviews, "--out", out, "--day", day}, "reviews.csv: no rows: a day with no reviews? (--allow-empty accepts it)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := run(t, tt.args...)
			if code != cli.ExitBadInput {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, cli.ExitBadInput, stderr)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr does not mention %q:\n%s", tt.want, stderr)
			}
		})
	}
}

// TestS3 runs the step on moto's S3, through the real SDK client: the
// reviews as Parquet, photos in two buckets (so they share no prefix and
// are copied under --input-prefix), and a rerun that must give the same
// outputs.
func TestS3(t *testing.T) {
	endpoint := testenv.S3Endpoint(t)
	photos, other := testenv.NewBucket(t, endpoint), testenv.NewBucket(t, endpoint)
	ctx := context.Background()
	store := storage.New(testenv.StorageOptions(endpoint))
	put := func(uri string, data []byte) {
		t.Helper()
		if err := store.WriteFile(ctx, uri, data); err != nil {
			t.Fatal(err)
		}
	}
	p := "s3://" + photos + "/uploads/"
	reviews := []inspect.Review{
		{ReviewID: "r1", ReviewType: inspect.ProductReview, ImageURI: p + "2026/11/28/r1-0.jpg", ImageIndex: 0, UserID: "u1"},
		{ReviewID: "r1", ReviewType: inspect.ProductReview, ImageURI: p + "2026/11/28/r1-1.png", ImageIndex: 1, UserID: "u1"},
		{ReviewID: "r2", ReviewType: inspect.StyleReview, ImageURI: p + "2026/11/27/r2-0", ImageIndex: 0}, // PNG, no extension
		{ReviewID: "r3", ReviewType: inspect.StyleReview, ImageURI: p + "2026/11/28/r3-0.gif", ImageIndex: 0},
		{ReviewID: "r3", ReviewType: inspect.StyleReview, ImageURI: p + "2026/11/28/missing.jpg", ImageIndex: 1},
		{ReviewID: "r4", ReviewType: inspect.ProductReview, ImageURI: p + "2026/11/28/big.jpg", ImageIndex: 0},
	}
	put(p+"2026/11/28/r1-0.jpg", []byte("jpeg r1-0"))
	put(p+"2026/11/28/r1-1.png", pngBytes)
	put(p+"2026/11/27/r2-0", pngBytes)
	put(p+"2026/11/28/r3-0.gif", gifBytes)
	put(p+"2026/11/28/big.jpg", bigJPEG)
	putReviews := func(uri string, rows []inspect.Review) {
		t.Helper()
		var buf bytes.Buffer
		if err := inspect.WriteReviews(&buf, rows); err != nil {
			t.Fatal(err)
		}
		put(uri, buf.Bytes())
	}
	oneBucket := "s3://" + photos + "/reviews/dt=" + day + "/reviews.parquet"
	putReviews(oneBucket, reviews)
	s3args := []string{"--endpoint-url", endpoint, "--region", testenv.Region, "--day", day, "--max-payload-mb", "1", "--on-bad-row", "skip"}

	// One bucket: the photos are listed where they are.
	out := "s3://" + photos + "/stage/one/dt=" + day + "/"
	code, stdout, stderr := run(t, slices.Concat(s3args, []string{"--reviews", oneBucket, "--out", out})...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	res := result(t, stdout)
	if res.ManifestPrefix != p+"2026/11/" || res.Copied != 0 || res.Staged != 3 {
		t.Errorf("prefix %q, copied %d, staged %d; want %q, 0, 3", res.ManifestPrefix, res.Copied, res.Staged, p+"2026/11/")
	}
	if diff := cmp.Diff(map[string]int{"unsupported_type": 1, "missing": 1, "too_large": 1}, res.RejectedByReason); diff != "" {
		t.Errorf("rejected by reason (-want +got):\n%s", diff)
	}
	data, err := store.ReadFile(ctx, res.ManifestURI)
	if err != nil {
		t.Fatal(err)
	}
	prefix, keys := readManifest(t, data)
	if diff := cmp.Diff([]string{"28/r1-0.jpg", "28/r1-1.png", "27/r2-0"}, keys); diff != "" || prefix != res.ManifestPrefix {
		t.Errorf("manifest prefix %q, keys (-want +got):\n%s", prefix, diff)
	}
	for _, uri := range res.Outputs {
		if _, err := store.Stat(ctx, uri); err != nil {
			t.Errorf("output: %v", err)
		}
	}

	// A photo in a second bucket: no common prefix. Without
	// --input-prefix the step says so; with it the photos are copied.
	otherPhoto := "s3://" + other + "/archive/r5-0.JPG"
	put(otherPhoto, []byte("jpeg r5-0"))
	twoBuckets := "s3://" + photos + "/reviews/dt=" + day + "/two-buckets.parquet"
	putReviews(twoBuckets, append(slices.Clone(reviews),
		inspect.Review{ReviewID: "r5", ReviewType: inspect.StyleReview, ImageURI: otherPhoto, ImageIndex: 0}))
	out = "s3://" + photos + "/stage/two/dt=" + day + "/"
	code, _, stderr = run(t, slices.Concat(s3args, []string{"--reviews", twoBuckets, "--out", out})...)
	buckets := []string{"s3://" + photos, "s3://" + other}
	slices.Sort(buckets)
	if code != cli.ExitBadInput || !strings.Contains(stderr, fmt.Sprintf("the photos share no prefix (%s, %s): give --input-prefix", buckets[0], buckets[1])) {
		t.Errorf("exit %d, want %d saying the photos share no prefix; stderr:\n%s", code, cli.ExitBadInput, stderr)
	}

	input := "s3://" + photos + "/transform-input"
	args := slices.Concat(s3args, []string{"--reviews", twoBuckets, "--out", out, "--input-prefix", input})
	code, stdout, stderr = run(t, args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	res = result(t, stdout)
	wantPrefix := input + "/dt=" + day + "/"
	if res.ManifestPrefix != wantPrefix || res.Copied != 4 || res.Staged != 4 {
		t.Errorf("prefix %q, copied %d, staged %d; want %q, 4, 4", res.ManifestPrefix, res.Copied, res.Staged, wantPrefix)
	}
	firstStaged, err := store.ReadFile(ctx, res.StagedURI)
	if err != nil {
		t.Fatal(err)
	}
	firstManifest, err := store.ReadFile(ctx, res.ManifestURI)
	if err != nil {
		t.Fatal(err)
	}
	prefix, keys = readManifest(t, firstManifest)
	if diff := cmp.Diff([]string{"r1/0.jpg", "r1/1.png", "r2/0.png", "r5/0.jpg"}, keys); diff != "" || prefix != wantPrefix {
		t.Errorf("manifest prefix %q, keys (-want +got):\n%s", prefix, diff)
	}
	for _, r := range readStaged(t, firstStaged) {
		if r.InputURI != wantPrefix+r.InputKey || r.OutputKey != r.InputKey+".out" {
			t.Errorf("row %s/%d: input %s, key %s, output %s", r.ReviewID, r.ImageIndex, r.InputURI, r.InputKey, r.OutputKey)
		}
		orig, err := store.ReadFile(ctx, r.ImageURI)
		if err != nil {
			t.Fatal(err)
		}
		copied, err := store.ReadFile(ctx, r.InputURI)
		if err != nil {
			t.Errorf("copy of %s: %v", r.ImageURI, err)
			continue
		}
		if !bytes.Equal(orig, copied) {
			t.Errorf("copy %s differs from %s", r.InputURI, r.ImageURI)
		}
	}
	rejected, err := store.ReadFile(ctx, res.Outputs["rejected"])
	if err != nil {
		t.Fatal(err)
	}
	wantRejected := map[string]string{"r3/0": "unsupported_type", "r3/1": "missing", "r4/0": "too_large"}
	if diff := cmp.Diff(wantRejected, rejectedLines(t, rejected)); diff != "" {
		t.Errorf("rejected (-want +got):\n%s", diff)
	}

	// A rerun (say, a retried pod) copies again and writes the same files.
	if code, _, stderr := run(t, args...); code != 0 {
		t.Fatalf("rerun: exit %d: %s", code, stderr)
	}
	for name, first := range map[string][]byte{res.StagedURI: firstStaged, res.ManifestURI: firstManifest} {
		again, err := store.ReadFile(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first, again) {
			t.Errorf("%s changed on a rerun", name)
		}
	}
}
