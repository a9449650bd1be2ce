package predictionscmd_test

import (
	"path/filepath"
	"testing"

	"github.com/reviewlens/reviewlens/internal/predictionscmd"
	"github.com/reviewlens/reviewlens/internal/steptest"
	"github.com/reviewlens/reviewlens/storage"
)

func TestBadInputs(t *testing.T) {
	// laid out lays out the day in dir and returns the flags, with one
	// replaced.
	laidOut := func(flag, value string, more ...string) func(testing.TB, string) []string {
		return func(tb testing.TB, dir string) []string {
			staged, outs, classes := day(tb, storage.New(storage.Options{}), dir)
			args := map[string]string{"--staged": staged, "--outputs": outs, "--classes": classes, "--out": filepath.Join(dir, "out")}
			if flag != "" {
				args[flag] = value
			}
			out := []string{}
			for _, f := range []string{"--staged", "--outputs", "--classes", "--out"} {
				out = append(out, f, args[f])
			}
			return append(out, more...)
		}
	}
	steptest.CheckBadInputs(t, predictionscmd.Step, []steptest.BadInput{
		{Name: "classes of another model", Setup: func(tb testing.TB, dir string) []string {
			args := laidOut("", "")(tb, dir)
			args[5] = steptest.WriteFile(tb, dir, "other-classes.json", []byte(`{"labels":[{"label":"a"},{"label":"b"},{"label":"c"}]}`))
			return args
		}, Words: []string{"--classes", "other-classes.json", "3 classes", "no output fits it", "3 of the 5 outputs read hold 5 probabilities"}, NoOutput: []string{"out"}},
		{Name: "classes file missing", Setup: laidOut("--classes", "testdata/classes.jsn"),
			Words: []string{"--classes", "classes.jsn", "no such file"}, NoOutput: []string{"out"}},
		{Name: "classes file that is not one", Setup: func(tb testing.TB, dir string) []string {
			args := laidOut("", "")(tb, dir)
			args[5] = steptest.WriteFile(tb, dir, "notes.txt", []byte("hello world\n"))
			return args
		}, Words: []string{"--classes", "not a class list"}, NoOutput: []string{"out"}},
		{Name: "staged folder without staged.parquet", Setup: func(tb testing.TB, dir string) []string {
			args := laidOut("", "")(tb, dir)
			args[1] = args[3]
			return args
		}, Words: []string{"--staged", "is a directory with no staged.parquet"}, NoOutput: []string{"out"}},
		{Name: "staged not Parquet", Setup: func(tb testing.TB, dir string) []string {
			args := laidOut("", "")(tb, dir)
			args[1] = args[5]
			return args
		}, Words: []string{"--staged", "not a Parquet file", "JSON"}, NoOutput: []string{"out"}},
		{Name: "out is a file", Setup: func(tb testing.TB, dir string) []string {
			args := laidOut("", "")(tb, dir)
			args[7] = args[5]
			return args
		}, Words: []string{"--out", "is a file, want a folder"}},
		{Name: "concurrency 0", Setup: laidOut("", "", "--concurrency", "0"), Words: []string{"--concurrency 0"}, NoOutput: []string{"out"}},
	})
}
