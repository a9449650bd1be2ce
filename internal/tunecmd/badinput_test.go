package tunecmd_test

import (
	"testing"

	"github.com/reviewlens/reviewlens/internal/steptest"
	"github.com/reviewlens/reviewlens/internal/tunecmd"
)

// TestBadInputs: what the tune step refuses before it calls SageMaker.
func TestBadInputs(t *testing.T) {
	base := []string{"--region", "us-east-1", "--endpoint-url", "http://127.0.0.1:1", "--role-arn", "arn:aws:iam::123456789012:role/r",
		"--output", "s3://b/models/", "--grid", "num_layers=18,34"}
	args := func(more ...string) []string { return append(append([]string{}, base...), more...) }
	steptest.CheckBadInputs(t, tunecmd.Step, []steptest.BadInput{
		{Name: "train folder missing", Args: args("--train", "{dir}/labels/"), Words: []string{"--train", "no such file"}},
		{Name: "train folder without summary.json", Args: args("--train", "{dir}"), Words: []string{"--train", "no summary.json"}},
		{Name: "summary not JSON", Setup: func(tb testing.TB, dir string) []string {
			steptest.WriteFile(tb, dir, "summary.json", []byte("num_classes: 4\n"))
			return args("--train", dir)
		}, Words: []string{"summary.json"}},
		{Name: "grid file missing", Args: args("--train", "{dir}", "--grid-file", "{dir}/grid.yaml"), Words: []string{"--grid-file", "no such file"}},
		{Name: "max parallel 0", Args: args("--train", "{dir}", "--max-parallel", "0"), Words: []string{"--max-parallel 0"}},
		{Name: "max runtime 0", Args: args("--train", "{dir}", "--max-runtime", "0s"), Words: []string{"--max-runtime 0s"}},
	})
}
