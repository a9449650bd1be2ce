package transformcmd_test

import (
	"testing"

	"github.com/reviewlens/reviewlens/internal/steptest"
	"github.com/reviewlens/reviewlens/internal/transformcmd"
)

// TestBadInputs: what the transform step refuses before it calls
// SageMaker (the endpoint given answers nothing).
func TestBadInputs(t *testing.T) {
	base := []string{"--region", "us-east-1", "--endpoint-url", "http://127.0.0.1:1", "--output", "s3://b/predictions/", "--model", "m"}
	args := func(more ...string) []string { return append(append([]string{}, base...), more...) }
	steptest.CheckBadInputs(t, transformcmd.Step, []steptest.BadInput{
		{Name: "staged missing", Args: args("--staged", "{dir}/staged/"), Words: []string{"--staged", "no such file"}},
		{Name: "staged folder without the table", Args: args("--staged", "testdata"), Words: []string{"--staged", "no staged.parquet"}},
		{Name: "staged not Parquet", Setup: func(tb testing.TB, dir string) []string {
			return args("--staged", steptest.WriteFile(tb, dir, "staged.parquet", []byte("r1,0\n")))
		}, Words: []string{"--staged", "not a Parquet file"}},
		{Name: "instance count 0", Args: args("--staged", "{dir}", "--instance-count", "0"), Words: []string{"--instance-count 0"}},
		{Name: "poll interval 0", Args: args("--staged", "{dir}", "--poll-interval", "0s"), Words: []string{"--poll-interval 0s"}},
	})
}
