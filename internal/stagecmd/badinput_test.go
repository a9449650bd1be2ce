package stagecmd_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reviewlens/reviewlens/internal/cli"
	"github.com/reviewlens/reviewlens/internal/stagecmd"
	"github.com/reviewlens/reviewlens/internal/steptest"
	"github.com/reviewlens/reviewlens/internal/testenv"
)

// TestBadInputs is the stage step's table of bad inputs.
func TestBadInputs(t *testing.T) {
	args := func(reviews string, more ...string) []string {
		return append([]string{"--reviews", reviews, "--day", day, "--out", "{dir}/out"}, more...)
	}
	steptest.CheckBadInputs(t, stagecmd.Step, []steptest.BadInput{
		{Name: "no rows", Args: args("testdata/empty.csv"), Words: []string{"--reviews", "no rows", "--allow-empty"}, NoOutput: []string{"out"}},
		{Name: "missing", Args: args("testdata/nope.csv"), Words: []string{"--reviews", "no such file"}, NoOutput: []string{"out"}},
		{Name: "a directory", Args: args("testdata"), Words: []string{"--reviews", "is a directory"}, NoOutput: []string{"out"}},
		{Name: "truncated CSV", Args: args("testdata/truncated.csv"), Words: []string{"--reviews", "row 2"}, NoOutput: []string{"out"}},
		{Name: "not UTF-8", Args: args("testdata/nonutf8.csv"), Words: []string{"row 2: review_id", "not valid UTF-8"}, NoOutput: []string{"out"}},
		{Name: "an ID too long", Args: args("testdata/long-id.csv"), Words: []string{"row 2: review_id", "300 bytes, want at most 256"}, NoOutput: []string{"out"}},
		{Name: "rows disagree on a review's type", Args: args("testdata/two-types.csv"), Words: []string{"row 2: review_type", "a review has one type"}, NoOutput: []string{"out"}},
		{
			Name: "an image_uri of 50 MB",
			Setup: func(tb testing.TB, dir string) []string {
				csv := "review_id,review_type,image_uri,image_index,user_id,product_id,created_at\n" +
					"r1,product,s3://photos/" + strings.Repeat("k", 50<<20) + ".jpg,0,u1,p1,\n"
				p := steptest.WriteFile(tb, dir, "reviews.csv", []byte(csv))
				return []string{"--reviews", p, "--day", day, "--out", filepath.Join(dir, "out")}
			},
			Words: []string{"row 1: image_uri", "52428816 bytes, want at most 1024"}, NoOutput: []string{"out"},
		},
		{
			Name: "out is a file",
			Setup: func(tb testing.TB, dir string) []string {
				return []string{"--reviews", "testdata/two-types.csv", "--day", day, "--out", steptest.WriteFile(tb, dir, "out", []byte("x"))}
			},
			Words: []string{"--out", "is a file, want a folder"},
		},
		{Name: "concurrency 0", Args: args("testdata/two-types.csv", "--concurrency", "0"), Words: []string{"--concurrency 0"}, NoOutput: []string{"out"}},
	})
}

// TestHugeURIStderr: a 50 MB image_uri costs a few KB of stderr.
func TestHugeURIStderr(t *testing.T) {
	dir := t.TempDir()
	csv := "review_id,review_type,image_uri,image_index,user_id,product_id,created_at\n" +
		"r1,product,s3://photos/" + strings.Repeat("k", 50<<20) + ".jpg,0,u1,p1,\n"
	p := steptest.WriteFile(t, dir, "reviews.csv", []byte(csv))
	code, _, stderr := steptest.Run(t, stagecmd.Step, "--reviews", p, "--day", day, "--out", filepath.Join(dir, "out"))
	if code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
	if n := len(stderr); n > 64<<10 {
		t.Errorf("stderr is %d bytes for a 50 MB image_uri, want a few KB", n)
	}
}

func TestAllowEmpty(t *testing.T) {
	dir := t.TempDir()
	code, stdout, stderr := steptest.Run(t, stagecmd.Step, "--reviews", "testdata/empty.csv", "--day", day, "--out", filepath.Join(dir, "out"), "--allow-empty")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	res := result(t, stdout)
	if res.Staged != 0 || res.Reviews != 0 {
		t.Errorf("staged %d of %d reviews, want none", res.Staged, res.Reviews)
	}
}

// TestStalledS3: an S3 endpoint that accepts connections and never
// answers fails the step as transient (exit 75) once the SDK's retries
// of the stalled call are spent, within --io-timeout × attempts plus
// backoff.
func TestStalledS3(t *testing.T) {
	testenv.FakeCredentials(t)
	addr := testenv.BlackHole(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	code, _, stderr := steptest.RunContext(ctx, t, stagecmd.Step, "--endpoint-url", "http://"+addr, "--io-timeout", "300ms",
		"--reviews", "s3://reviews/dt=2026-11-28/reviews.csv", "--day", day, "--out", filepath.Join(t.TempDir(), "out"))
	if code != cli.ExitTransient {
		t.Fatalf("exit %d, want %d: %s", code, cli.ExitTransient, steptest.LastLine(stderr))
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("took %s with a 300 ms I/O timeout", d)
	}
}
