package sagemaker

import (
	"bytes"
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestJobNameLimits(t *testing.T) {
	for _, tt := range []struct {
		max   int
		parts []string
	}{
		{MaxJobNameLen, []string{"rl-ic", "nl18", "e5"}},
		{MaxJobNameLen - attemptRoom, []string{strings.Repeat("x", 100)}},
		{MaxTuningNameLen - attemptRoom, []string{"rl-ic", "grid"}},
		{MaxJobNameLen, []string{"--", "__", "Ünïcode", "a.b", "-"}},
		{MaxJobNameLen, nil},
	} {
		name := JobName(tt.max, "key", tt.parts...)
		if !ValidName(name, tt.max) {
			t.Errorf("JobName(%d, %q) = %q: not a valid name", tt.max, tt.parts, name)
		}
		for a := 1; a <= 99; a++ {
			if n := AttemptName(name, a, tt.max+attemptRoom); !ValidName(n, min(tt.max+attemptRoom, MaxJobNameLen)) && tt.max+attemptRoom <= MaxJobNameLen {
				t.Errorf("AttemptName(%q, %d) = %q: not valid", name, a, n)
			}
		}
	}
	if a, b := JobName(63, "k1", "p"), JobName(63, "k2", "p"); a == b {
		t.Errorf("different keys gave the same name %q", a)
	}
	if a, b := JobName(63, "k1", "p"), JobName(63, "k1", "p"); a != b {
		t.Errorf("the same key gave %q and %q", a, b)
	}
	if got, want := AttemptName("job-abc", 1, 63), "job-abc"; got != want {
		t.Errorf("first attempt = %q, want %q", got, want)
	}
	if got, want := AttemptName("job-abc", 3, 63), "job-abc-a3"; got != want {
		t.Errorf("third attempt = %q, want %q", got, want)
	}
}

func FuzzJobName(f *testing.F) {
	f.Add("rl-ic", "nl18", "key", 63)
	f.Add("--x--", "", "", 32)
	f.Add("Ünï code", "a_b.c", "k", 10)
	f.Fuzz(func(t *testing.T, a, b, key string, max int) {
		if max < 9 || max > 63 {
			return
		}
		name := JobName(max, key, a, b)
		if !ValidName(name, max) {
			t.Fatalf("JobName(%d, %q, %q, %q) = %q: invalid", max, key, a, b, name)
		}
		if n := AttemptName(name, 7, max+attemptRoom); len(n) > max+attemptRoom || !namePattern.MatchString(n) {
			t.Fatalf("AttemptName(%q) = %q: invalid", name, n)
		}
	})
}

func TestValidateHyperparameters(t *testing.T) {
	base := map[string]string{"num_classes": "5", "num_training_samples": "100"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name  string
		hp    map[string]string
		field string // "" = valid
	}{
		{"minimal", with(), ""},
		{"grid point", with("num_layers", "50", "epochs", "10", "learning_rate", "0.01", "use_pretrained_model", "1", "image_shape", "3,224,224"), ""},
		{"unknown", with("layers", "18"), "layers"},
		{"bad depth", with("num_layers", "19"), "num_layers"},
		{"transfer from small depth", with("num_layers", "20", "use_pretrained_model", "1"), "num_layers"},
		{"pretrained wrong shape", with("use_pretrained_model", "1", "image_shape", "3,128,128"), "image_shape"},
		{"learning rate above 1", with("learning_rate", "1.5"), "learning_rate"},
		{"epochs zero", with("epochs", "0"), "epochs"},
		{"epochs not int", with("epochs", "5.5"), "epochs"},
		{"optimizer", with("optimizer", "adagrad"), "optimizer"},
		{"checkpoint after epochs", with("epochs", "5", "checkpoint_frequency", "6"), "checkpoint_frequency"},
		{"weighted loss single label", with("use_weighted_loss", "1"), "use_weighted_loss"},
		{"no num_classes", map[string]string{"num_training_samples": "10"}, "num_classes"},
		{"one class", with("num_classes", "1"), "num_classes"},
		{"top_k 1", with("top_k", "1"), "top_k"},
		{"shape", with("image_shape", "224,224"), "image_shape"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateHyperparameters(tt.hp)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("err = %v, want none", err)
				}
				return
			}
			var se *SpecError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want a *SpecError", err)
			}
			if se.Field != tt.field || se.Reason == "" {
				t.Errorf("err = %+v, want field %q with a reason", se, tt.field)
			}
		})
	}
}

func TestImageURI(t *testing.T) {
	for region, want := range map[string]string{
		"us-east-1":  "811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1",
		"eu-west-1":  "685385470294.dkr.ecr.eu-west-1.amazonaws.com/image-classification:1",
		"cn-north-1": "390948362332.dkr.ecr.cn-north-1.amazonaws.com.cn/image-classification:1",
	} {
		if got, err := ImageURI(region); err != nil || got != want {
			t.Errorf("ImageURI(%s) = %q, %v; want %q", region, got, err, want)
		}
	}
	if _, err := ImageURI("mars-north-1"); err == nil || !strings.Contains(err.Error(), "--training-image") {
		t.Errorf("ImageURI(mars-north-1) = %v, want an error pointing to --training-image", err)
	}
}

func TestGridFlagsAndFile(t *testing.T) {
	g, err := ParseGridFlags([]string{"num_layers=18,34,50", "epochs=5,10"}, []string{"learning_rate=0.01"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := g.Size(), 6; got != want {
		t.Errorf("Size = %d, want %d", got, want)
	}
	points := g.Points()
	if diff := cmp.Diff([]Setting{{"num_layers", "18"}, {"epochs", "5"}}, points[0]); diff != "" {
		t.Errorf("first point (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]Setting{{"num_layers", "50"}, {"epochs", "10"}}, points[5]); diff != "" {
		t.Errorf("last point (-want +got):\n%s", diff)
	}
	file, err := ParseGridFile([]byte("grid:\n  num_layers: [18, 34]\n  learning_rate: [0.010, 0.1]\nset:\n  epochs: 5\n"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Grid{Axes: []Axis{{"num_layers", []string{"18", "34"}}, {"learning_rate", []string{"0.010", "0.1"}}}, Fixed: map[string]string{"epochs": "5"}}, file); diff != "" {
		t.Errorf("grid file (-want +got):\n%s", diff)
	}
	json, err := ParseGridFile([]byte(`{"grid": {"optimizer": ["sgd", "adam"]}, "set": {"mini_batch_size": 64}}`))
	if err != nil || json.Size() != 2 || json.Fixed["mini_batch_size"] != "64" {
		t.Errorf("JSON grid file = %+v, %v", json, err)
	}
	merged, err := file.Merge(Grid{Axes: []Axis{{"epochs", []string{"5", "10"}}}})
	if err != nil || merged.Size() != 8 || merged.Fixed["epochs"] != "" {
		t.Errorf("Merge: %+v, %v; want epochs varied over 8 points", merged, err)
	}
	for _, bad := range [][2][]string{
		{{"num_layers"}, nil},
		{{"num_layers=18,19"}, nil},
		{{"num_layers=18,18"}, nil},
		{{"epochs=5"}, {"epochs=5"}},
		{nil, {"nope=1"}},
	} {
		if _, err := ParseGridFlags(bad[0], bad[1]); err == nil {
			t.Errorf("ParseGridFlags(%q, %q): no error", bad[0], bad[1])
		}
	}
	if _, err := ParseGridFile([]byte("grid:\n  num_layers: [18, 19]\n")); err == nil || !strings.Contains(err.Error(), "num_layers=19") {
		t.Errorf("grid file with a bad value: %v", err)
	}
	if _, err := ParseGridFile([]byte("grids:\n  epochs: [1]\n")); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("grid file with an unknown key: %v", err)
	}
}

func testSpec() TrainingSpec {
	return TrainingSpec{
		RoleARN:        "arn:aws:iam::123456789012:role/sagemaker",
		Image:          "811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1",
		Train:          "s3://b/labels/train.manifest",
		Validation:     "s3://b/labels/validation.manifest",
		LabelAttribute: "review-photo-category",
		OutputPath:     "s3://b/models/",
	}
}

func TestTrainingSpecRequest(t *testing.T) {
	s := testSpec()
	s.Spot, s.MaxRuntime = true, time.Hour
	s.Subnets, s.SecurityGroups = []string{"subnet-1"}, []string{"sg-1"}
	s.VolumeKMSKey, s.OutputKMSKey = "alias/vol", "alias/out"
	s.Tags = map[string]string{"team": "reviews"}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	in := s.Request("job-1", map[string]string{"num_classes": "5"})
	if got, want := aws.ToString(in.TrainingJobName), "job-1"; got != want {
		t.Errorf("name = %q, want %q", got, want)
	}
	if in.AlgorithmSpecification.TrainingInputMode != types.TrainingInputModePipe {
		t.Errorf("input mode = %s, want Pipe for augmented manifests", in.AlgorithmSpecification.TrainingInputMode)
	}
	if got := len(in.InputDataConfig); got != 2 {
		t.Fatalf("channels = %d, want train and validation", got)
	}
	ch := in.InputDataConfig[0]
	if diff := cmp.Diff([]string{"source-ref", "review-photo-category"}, ch.DataSource.S3DataSource.AttributeNames); diff != "" {
		t.Errorf("AttributeNames (-want +got):\n%s", diff)
	}
	if ch.RecordWrapperType != types.RecordWrapperRecordio || ch.DataSource.S3DataSource.S3DataType != types.S3DataTypeAugmentedManifestFile {
		t.Errorf("channel = %+v, want an augmented manifest with RecordIO wrapping", ch)
	}
	if got, want := aws.ToInt32(in.StoppingCondition.MaxWaitTimeInSeconds), int32(7200); got != want {
		t.Errorf("MaxWaitTimeInSeconds = %d, want %d (2 × max runtime)", got, want)
	}
	if !aws.ToBool(in.EnableManagedSpotTraining) || in.VpcConfig == nil || aws.ToString(in.ResourceConfig.VolumeKmsKeyId) != "alias/vol" || len(in.Tags) != 1 {
		t.Errorf("spot, VPC, KMS or tags missing: %+v", in)
	}

	lst := testSpec()
	lst.InputFormat, lst.Train, lst.Validation = FormatLst, "s3://b/ch/train/", "s3://b/ch/validation/"
	lst.TrainLst, lst.ValidationLst = "s3://b/labels/train.lst", "s3://b/labels/validation.lst"
	if err := lst.Validate(); err != nil {
		t.Fatal(err)
	}
	lin := lst.Request("j", nil)
	var names []string
	for _, c := range lin.InputDataConfig {
		names = append(names, aws.ToString(c.ChannelName))
		if aws.ToString(c.ContentType) != "application/x-image" {
			t.Errorf("channel %s content type %s, want application/x-image", aws.ToString(c.ChannelName), aws.ToString(c.ContentType))
		}
	}
	if diff := cmp.Diff([]string{"train", "validation", "train_lst", "validation_lst"}, names); diff != "" {
		t.Errorf(".lst channels (-want +got):\n%s", diff)
	}
	if lin.AlgorithmSpecification.TrainingInputMode != types.TrainingInputModeFile {
		t.Errorf(".lst input mode = %s, want File", lin.AlgorithmSpecification.TrainingInputMode)
	}
}

func TestTrainingSpecValidate(t *testing.T) {
	for field, mutate := range map[string]func(*TrainingSpec){
		"role-arn":        func(s *TrainingSpec) { s.RoleARN = "sagemaker-role" },
		"output":          func(s *TrainingSpec) { s.OutputPath = "/local/models" },
		"train":           func(s *TrainingSpec) { s.Train = "" },
		"instance-type":   func(s *TrainingSpec) { s.InstanceType = "ml.p99.huge" },
		"instance-count":  func(s *TrainingSpec) { s.InstanceCount = -1 },
		"max-runtime":     func(s *TrainingSpec) { s.MaxRuntime = 30 * 24 * time.Hour },
		"max-wait":        func(s *TrainingSpec) { s.Spot, s.MaxRuntime, s.MaxWait = true, time.Hour, time.Minute },
		"subnets":         func(s *TrainingSpec) { s.Subnets = []string{"subnet-1"} },
		"label-attribute": func(s *TrainingSpec) { s.LabelAttribute = "" },
		"input-format":    func(s *TrainingSpec) { s.InputFormat = "recordio" },
		"tag":             func(s *TrainingSpec) { s.Tags = map[string]string{"": "x"} },
		"train-lst":       func(s *TrainingSpec) { s.InputFormat = FormatLst },
	} {
		s := testSpec()
		mutate(&s)
		var se *SpecError
		if err := s.Validate(); !errors.As(err, &se) || se.Field != field {
			t.Errorf("%s: Validate() = %v, want a *SpecError on %s", field, err, field)
		}
	}
}

func TestPlan(t *testing.T) {
	grid, err := ParseGridFlags([]string{"num_layers=18,34,50", "epochs=5,10,15"}, []string{"use_pretrained_model=1"})
	if err != nil {
		t.Fatal(err)
	}
	data := map[string]string{"num_classes": "4", "num_training_samples": "1000"}
	jobs, err := Plan(testSpec(), grid, data, "rl-ic")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(jobs), 9; got != want {
		t.Fatalf("jobs = %d, want %d", got, want)
	}
	seen := map[string]bool{}
	for _, j := range jobs {
		if !ValidName(j.BaseName, MaxJobNameLen-attemptRoom) || seen[j.BaseName] {
			t.Errorf("base name %q invalid or repeated", j.BaseName)
		}
		seen[j.BaseName] = true
		hp := j.Request.HyperParameters
		if hp["num_classes"] != "4" || hp["num_training_samples"] != "1000" || hp["use_pretrained_model"] != "1" {
			t.Errorf("%s: hyperparameters %v miss the data or fixed values", j.BaseName, hp)
		}
		if !strings.HasPrefix(j.BaseName, "rl-ic-nl"+hp["num_layers"]+"-e"+hp["epochs"]+"-") {
			t.Errorf("name %q does not show its grid point", j.BaseName)
		}
	}
	again, _ := Plan(testSpec(), grid, data, "rl-ic")
	if again[4].BaseName != jobs[4].BaseName {
		t.Errorf("Plan is not deterministic: %s then %s", jobs[4].BaseName, again[4].BaseName)
	}
	more := withValues(data, "num_training_samples", "1001")
	changed, _ := Plan(testSpec(), grid, more, "rl-ic")
	if changed[4].BaseName == jobs[4].BaseName {
		t.Errorf("other data gave the same name %s", jobs[4].BaseName)
	}
	bad, _ := ParseGridFlags([]string{"num_layers=20"}, []string{"use_pretrained_model=1"})
	if _, err := Plan(testSpec(), bad, data, "rl-ic"); err == nil || !strings.Contains(err.Error(), "num_layers=20") {
		t.Errorf("Plan of a point the algorithm refuses: %v", err)
	}
}

func withValues(m map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

func TestPlanGridLimits(t *testing.T) {
	data := map[string]string{"num_classes": "4", "num_training_samples": "1000"}
	grid, _ := ParseGridFlags([]string{"num_layers=18,34", "epochs=5,10"}, nil)
	hpo, err := PlanGrid(testSpec(), grid, data, "rl-ic", GridOptions{MaxParallel: 4})
	if err != nil {
		t.Fatal(err)
	}
	if !ValidName(hpo.Name, MaxTuningNameLen-attemptRoom) {
		t.Errorf("tuning job name %q invalid", hpo.Name)
	}
	cfg := hpo.Request.HyperParameterTuningJobConfig
	if cfg.Strategy != types.HyperParameterTuningJobStrategyTypeGrid || cfg.ResourceLimits.MaxNumberOfTrainingJobs != nil {
		t.Errorf("config = %+v, want Grid without MaxNumberOfTrainingJobs", cfg)
	}
	if got := len(cfg.ParameterRanges.CategoricalParameterRanges); got != 2 || cfg.ParameterRanges.IntegerParameterRanges != nil {
		t.Errorf("ranges = %+v, want 2 categorical only", cfg.ParameterRanges)
	}
	if hpo.Request.TrainingJobDefinition.StaticHyperParameters["num_classes"] != "4" {
		t.Errorf("static hyperparameters %v miss num_classes", hpo.Request.TrainingJobDefinition.StaticHyperParameters)
	}
	big := Grid{Axes: []Axis{{"epochs", []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16", "17", "18", "19", "20", "21", "22", "23", "24", "25", "26", "27", "28", "29", "30"}},
		{"mini_batch_size", []string{"8", "16", "32", "64", "128", "256", "512", "1024", "2048", "4096", "8192", "16384", "32768", "65536", "131072", "262144", "524288", "1048576", "2097152", "4194304", "8388608", "16777216", "33554432", "67108864", "134217728", "268435456"}}}}
	if _, err := PlanGrid(testSpec(), big, data, "rl-ic", GridOptions{}); err == nil || !strings.Contains(err.Error(), "750") {
		t.Errorf("PlanGrid of 780 jobs: %v, want the 750-job limit", err)
	}
	if _, err := PlanGrid(testSpec(), grid, data, "rl-ic", GridOptions{MaxParallel: 101}); err == nil {
		t.Errorf("PlanGrid with 101 parallel jobs: no error")
	}
	if _, err := PlanGrid(testSpec(), Grid{}, data, "rl-ic", GridOptions{}); err == nil {
		t.Errorf("PlanGrid of an empty grid: no error")
	}
}

func TestMarkBest(t *testing.T) {
	runs := []Run{
		{JobName: "c", Status: "Completed", Objective: 0.9, BillableSeconds: 300},
		{JobName: "b", Status: "Completed", Objective: 0.9, BillableSeconds: 200},
		{JobName: "a", Status: "Completed", Objective: 0.9, BillableSeconds: 200},
		{JobName: "d", Status: "Failed", Objective: 0.99},
		{JobName: "e", Status: "Completed", Objective: math.NaN()},
		{JobName: "f", Status: "Completed", Objective: 0.5},
	}
	if got := MarkBest(runs, Maximize); runs[got].JobName != "a" {
		t.Errorf("best = %s, want a (ties: fewer billable seconds, then name)", runs[got].JobName)
	}
	if got := MarkBest(runs, Minimize); runs[got].JobName != "f" {
		t.Errorf("best minimizing = %s, want f", runs[got].JobName)
	}
	n := 0
	for _, r := range runs {
		if r.Best {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d runs marked best, want 1", n)
	}
	if got := MarkBest([]Run{{Status: "Failed"}}, Maximize); got != -1 {
		t.Errorf("MarkBest with no completed run = %d, want -1", got)
	}
}

func TestRunsRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	runs := []Run{{
		JobName: "rl-ic-nl18-e5-abcdef12", BaseName: "rl-ic-nl18-e5-abcdef12", Attempt: 1,
		Point:           []Setting{{"num_layers", "18"}, {"epochs", "5"}},
		Hyperparameters: map[string]string{"num_layers": "18", "epochs": "5", "num_classes": "4"},
		Status:          "Completed", SecondaryStatus: "Completed",
		Metrics:         map[string]float64{"validation:accuracy": 0.91, "train:accuracy": 0.95},
		ObjectiveMetric: "validation:accuracy", Objective: 0.91, TrainingSeconds: 600, BillableSeconds: 240,
		InstanceType: "ml.p3.2xlarge", InstanceCount: 1, ModelArtifact: "s3://b/m/x/output/model.tar.gz", Best: true,
		CreatedAt: at, EndedAt: at.Add(time.Hour),
	}, {
		JobName: "rl-ic-nl34-e5-abcdef13-a2", BaseName: "rl-ic-nl34-e5-abcdef13", Attempt: 2, TuningJob: "rl-grid",
		Point: []Setting{{"num_layers", "34"}, {"epochs", "5"}}, Hyperparameters: map[string]string{},
		Status: "Failed", FailureReason: "ClientError: Data download failed", Metrics: map[string]float64{},
		ObjectiveMetric: "validation:accuracy", Objective: math.NaN(), InstanceType: "ml.p3.2xlarge", InstanceCount: 2,
	}}
	var buf bytes.Buffer
	if err := WriteRuns(&buf, runs); err != nil {
		t.Fatal(err)
	}
	got, err := ReadRuns(context.Background(), bytes.NewReader(buf.Bytes()), "runs.parquet")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(runs, got, cmpopts.EquateNaNs(), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("runs round trip (-want +got):\n%s", diff)
	}
}
