package sagemaker_test

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/google/go-cmp/cmp"

	"github.com/reviewlens/reviewlens/sagemaker"
	"github.com/reviewlens/reviewlens/sagemaker/sagemakertest"
)

// fakeClock never sleeps: time moves on by the wait asked for. hook, when
// set, runs on every sleep (a test cancels from there).
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
	hook  func()
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.waits = append(c.waits, d)
	hook := c.hook
	c.mu.Unlock()
	if hook != nil {
		hook()
	}
	return context.Cause(ctx)
}

func spec() sagemaker.TrainingSpec {
	return sagemaker.TrainingSpec{
		RoleARN:        "arn:aws:iam::123456789012:role/sagemaker",
		Image:          "811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1",
		Train:          "s3://b/labels/train.manifest",
		Validation:     "s3://b/labels/validation.manifest",
		LabelAttribute: "cat",
		OutputPath:     "s3://b/models/",
	}
}

func plan(t *testing.T, grids ...string) []sagemaker.Job {
	t.Helper()
	g, err := sagemaker.ParseGridFlags(grids, []string{"use_pretrained_model=1"})
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := sagemaker.Plan(spec(), g, map[string]string{"num_classes": "4", "num_training_samples": "100"}, "rl-ic")
	if err != nil {
		t.Fatal(err)
	}
	return jobs
}

func newTuner(api sagemaker.API, clock *fakeClock) *sagemaker.Tuner {
	return &sagemaker.Tuner{API: api, MaxParallel: 3, Poll: sagemaker.Polling{Interval: 30 * time.Second, Max: 5 * time.Minute, Clock: clock},
		Logger: slog.New(slog.DiscardHandler)}
}

// accuracyByLayers makes deeper networks more accurate, after three looks
// in progress.
func accuracyByLayers(in *sm.CreateTrainingJobInput) []sagemakertest.State {
	layers, _ := strconv.Atoi(in.HyperParameters["num_layers"])
	return []sagemakertest.State{
		{Status: types.TrainingJobStatusInProgress, Secondary: types.SecondaryStatusStarting},
		{Status: types.TrainingJobStatusInProgress, Secondary: types.SecondaryStatusDownloading},
		{Status: types.TrainingJobStatusInProgress, Secondary: types.SecondaryStatusTraining},
		{Status: types.TrainingJobStatusCompleted, Secondary: types.SecondaryStatusCompleted,
			Metrics: map[string]float64{"validation:accuracy": 0.5 + float64(layers)/200}, TrainingSeconds: 600, BillableSeconds: int32(100 + layers)},
	}
}

func TestTunerGrid(t *testing.T) {
	fake := sagemakertest.New()
	fake.ScriptFunc(accuracyByLayers)
	// The first polls wait, without sleeping, until three jobs have been
	// created, so that parallelism is seen whatever the scheduler does.
	clock := &fakeClock{}
	clock.hook = func() {
		deadline := time.Now().Add(10 * time.Second)
		for fake.Calls("CreateTrainingJob") < 3 && time.Now().Before(deadline) {
			runtime.Gosched()
		}
	}
	var events []sagemaker.Event
	var mu sync.Mutex
	tuner := newTuner(fake, clock)
	tuner.OnEvent = func(e sagemaker.Event) { mu.Lock(); events = append(events, e); mu.Unlock() }
	jobs := plan(t, "num_layers=18,34,50", "epochs=5,10,15")
	runs, err := tuner.Run(context.Background(), jobs)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fake.Calls("CreateTrainingJob"), 9; got != want {
		t.Errorf("creates = %d, want %d", got, want)
	}
	if got := fake.MaxInProgress(); got != 3 {
		t.Errorf("at most %d jobs in progress at once, want --max-parallel 3", got)
	}
	if len(runs) != 9 {
		t.Fatalf("runs = %d, want 9", len(runs))
	}
	var best []sagemaker.Run
	for _, r := range runs {
		if r.Best {
			best = append(best, r)
		}
		if r.Status != "Completed" || r.ModelArtifact == "" || r.BillableSeconds == 0 {
			t.Errorf("run %+v: want completed with an artifact and billable seconds", r)
		}
	}
	if len(best) != 1 || best[0].Hyperparameters["num_layers"] != "50" || best[0].Hyperparameters["epochs"] != "10" {
		t.Errorf("best = %+v; want num_layers=50 (most accurate), epochs=10 (same billable time: the first name, nl50-e10 < nl50-e15 < nl50-e5)", best)
	}
	for _, w := range clock.waits {
		if w < 27*time.Second {
			t.Errorf("polled after %v: never tighter than 30 s (less jitter)", w)
		}
	}
	// Every secondary-status change was reported.
	secondary := map[string]bool{}
	for _, e := range events {
		secondary[e.Secondary] = true
	}
	for _, s := range []string{"Starting", "Downloading", "Training", "Completed"} {
		if !secondary[s] {
			t.Errorf("no event for secondary status %s", s)
		}
	}

	// Again: nothing new is created, the same best is chosen.
	runs2, err := newTuner(fake, &fakeClock{}).Run(context.Background(), jobs)
	if err != nil {
		t.Fatal(err)
	}
	if got := fake.Calls("CreateTrainingJob"); got != 9 {
		t.Errorf("a rerun created jobs: %d creates in all, want 9", got)
	}
	for i := range runs2 {
		if runs2[i].JobName != runs[i].JobName || runs2[i].Best != runs[i].Best {
			t.Errorf("rerun run %d = %s best=%v, want %s best=%v", i, runs2[i].JobName, runs2[i].Best, runs[i].JobName, runs[i].Best)
		}
	}
}

func TestTunerFailures(t *testing.T) {
	jobs := plan(t, "num_layers=18,34,50")
	capacity, client := jobs[0].BaseName, jobs[1].BaseName
	fake := sagemakertest.New()
	fake.Script(capacity,
		sagemakertest.State{Status: types.TrainingJobStatusInProgress, Secondary: types.SecondaryStatusStarting},
		sagemakertest.State{Status: types.TrainingJobStatusFailed, Secondary: types.SecondaryStatusFailed,
			FailureReason: "CapacityError: Unable to provision requested ML compute capacity. Please retry using a different ML instance type."})
	fake.Script(client, sagemakertest.State{Status: types.TrainingJobStatusFailed, Secondary: types.SecondaryStatusFailed,
		FailureReason: "ClientError: Data download failed: no such key"})
	// An account quota refuses the first two creates: they are waited out.
	fake.FailNext("CreateTrainingJob", sagemakertest.LimitExceeded(), sagemakertest.LimitExceeded())
	clock := &fakeClock{}
	runs, err := newTuner(fake, clock).Run(context.Background(), jobs)

	var je *sagemaker.JobError
	if !errors.As(err, &je) || je.Job != client || !strings.HasPrefix(je.Reason, "ClientError") || je.Kind != "training job" {
		t.Fatalf("err = %v, want the ClientError of %s", err, client)
	}
	if strings.Contains(err.Error(), capacity) {
		t.Errorf("err = %v: the CapacityError job was retried and should not be reported", err)
	}
	var names []string
	for _, r := range runs {
		names = append(names, r.JobName+":"+r.Status)
	}
	want := []string{capacity + ":Failed", capacity + "-a2:Completed", client + ":Failed", jobs[2].BaseName + ":Completed"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("runs (-want +got):\n%s", diff)
	}
	if got := fake.CreatedJobs(); len(got) != 4 {
		t.Errorf("created %v, want 4 jobs (3 + the CapacityError retry)", got)
	}
	if got := fake.Calls("CreateTrainingJob"); got != 6 {
		t.Errorf("CreateTrainingJob calls = %d, want 6 (2 refused for the quota, 4 created)", got)
	}
	// The quota was waited out with waits from a minute on (less jitter).
	limitWaits := 0
	for _, w := range clock.waits {
		if w >= 54*time.Second && w <= 66*time.Second || w >= 108*time.Second && w <= 132*time.Second {
			limitWaits++
		}
	}
	if limitWaits < 2 {
		t.Errorf("waits %v: want two quota waits of about 1 and 2 min (or 1 and 1)", clock.waits)
	}
}

// TestTunerLeavesTransientErrorsToTheSDK: throttling and server errors
// reach the tuner only once the SDK's retryer has given up on them; the
// tuner does not retry them again but returns them (classified, so the
// step exits 75), and leaves the job it created running, for a rerun to
// attach to.
func TestTunerLeavesTransientErrorsToTheSDK(t *testing.T) {
	jobs := plan(t, "num_layers=18")
	for name, fail := range map[string]error{"throttling": sagemakertest.Throttling(), "server error": sagemakertest.InternalError()} {
		t.Run(name, func(t *testing.T) {
			fake := sagemakertest.New()
			// The first describe finds no job; the second, after the create, fails.
			fake.FailNext("DescribeTrainingJob", nil, fail)
			_, err := newTuner(fake, &fakeClock{}).Run(context.Background(), jobs)
			if err == nil {
				t.Fatal("no error")
			}
			if name == "throttling" && !errors.Is(err, sagemaker.ErrThrottled) {
				t.Errorf("err = %v, want ErrThrottled", err)
			}
			if got := fake.Calls("DescribeTrainingJob"); got != 2 {
				t.Errorf("describes = %d, want 2: no retry on top of the SDK's", got)
			}
			if got := fake.StoppedJobs(); len(got) != 0 {
				t.Errorf("stopped %v: a job is stopped only when the context ends", got)
			}
			runs, err := newTuner(fake, &fakeClock{}).Run(context.Background(), jobs)
			if err != nil || len(runs) != 1 || runs[0].Status != "Completed" || len(fake.CreatedJobs()) != 1 {
				t.Errorf("rerun: %v, %+v, created %v; want the job attached to and completed", err, runs, fake.CreatedJobs())
			}
		})
	}
}

// TestTunerStoppedWhileWaiting: a job stopped by someone else (or by its
// MaxRuntime or spot MaxWait) while the tuner waits gets the next attempt,
// whose checkpoints folder is the same; on the last attempt it is a
// *JobError with status Stopped.
func TestTunerStoppedWhileWaiting(t *testing.T) {
	jobs := plan(t, "num_layers=18")
	fake := sagemakertest.New()
	stopped := []sagemakertest.State{{Status: types.TrainingJobStatusInProgress}, {Status: types.TrainingJobStatusStopped}}
	fake.Script(jobs[0].BaseName, stopped...)
	fake.Script(jobs[0].BaseName+"-a2", stopped...)
	tuner := newTuner(fake, &fakeClock{})
	tuner.MaxAttempts = 2
	runs, err := tuner.Run(context.Background(), jobs)
	var je *sagemaker.JobError
	if !errors.As(err, &je) || je.Status != "Stopped" || je.Job != jobs[0].BaseName+"-a2" || je.Attempt != 2 {
		t.Fatalf("err = %v, want the second attempt Stopped", err)
	}
	if len(runs) != 2 || runs[0].Status != "Stopped" || runs[1].Attempt != 2 {
		t.Errorf("runs = %+v, want both attempts", runs)
	}
}

// TestTunerRerunRetriesFailed: a rerun that finds a job failed (whatever
// the reason) starts its next attempt, as it does for a stopped one.
func TestTunerRerunRetriesFailed(t *testing.T) {
	jobs := plan(t, "num_layers=18")
	fake := sagemakertest.New()
	in := *jobs[0].Request
	in.TrainingJobName = aws.String(jobs[0].BaseName)
	fake.AddJob(&in, sagemakertest.State{Status: types.TrainingJobStatusFailed, FailureReason: "ClientError: Data download failed"})
	runs, err := newTuner(fake, &fakeClock{}).Run(context.Background(), jobs)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{jobs[0].BaseName + "-a2"}, fake.CreatedJobs()); diff != "" {
		t.Errorf("created (-want +got):\n%s", diff)
	}
	if len(runs) != 2 || runs[0].Status != "Failed" || runs[1].Status != "Completed" || !runs[1].Best {
		t.Errorf("runs = %+v, want the failed one and its completed next attempt, best", runs)
	}
}

func TestTunerOptions(t *testing.T) {
	jobs := plan(t, "num_layers=18")
	for name, tuner := range map[string]sagemaker.Tuner{
		"negative parallel":  {MaxParallel: -1},
		"negative attempts":  {MaxAttempts: -2},
		"negative interval":  {Poll: sagemaker.Polling{Interval: -time.Second}},
		"max below interval": {Poll: sagemaker.Polling{Interval: time.Minute, Max: time.Second}},
		"direction":          {Direction: "Best"},
	} {
		t.Run(name, func(t *testing.T) {
			fake := sagemakertest.New()
			tuner.API = fake
			_, err := tuner.Run(context.Background(), jobs)
			var se *sagemaker.SpecError
			if !errors.As(err, &se) {
				t.Errorf("err = %v, want a SpecError", err)
			}
			if fake.Calls("DescribeTrainingJob") != 0 {
				t.Errorf("SageMaker called with bad options")
			}
		})
	}
	// A Max left zero under a long Interval follows it (5 min is the
	// default Max, not a limit).
	clock := &fakeClock{}
	fake := sagemakertest.New()
	fake.DefaultScript(sagemakertest.State{Status: types.TrainingJobStatusInProgress}, sagemakertest.State{Status: types.TrainingJobStatusInProgress},
		sagemakertest.State{Status: types.TrainingJobStatusCompleted, Metrics: map[string]float64{"validation:accuracy": 0.5}})
	tuner := sagemaker.Tuner{API: fake, Poll: sagemaker.Polling{Interval: 10 * time.Minute, Clock: clock}, Logger: slog.New(slog.DiscardHandler)}
	if _, err := tuner.Run(context.Background(), jobs); err != nil {
		t.Fatal(err)
	}
	for _, w := range clock.waits {
		if w < 9*time.Minute || w > 11*time.Minute {
			t.Errorf("waited %v, want 10 min (less jitter)", w)
		}
	}
}

func TestTunerRerunFindsJobs(t *testing.T) {
	jobs := plan(t, "num_layers=18,34,50,101")
	fake := sagemakertest.New()
	req := func(j sagemaker.Job, name string) *sm.CreateTrainingJobInput {
		in := *j.Request
		in.TrainingJobName = aws.String(name)
		return &in
	}
	done := sagemakertest.State{Status: types.TrainingJobStatusCompleted, Metrics: map[string]float64{"validation:accuracy": 0.7}, BillableSeconds: 50}
	fake.AddJob(req(jobs[0], jobs[0].BaseName), done)
	fake.AddJob(req(jobs[1], jobs[1].BaseName),
		sagemakertest.State{Status: types.TrainingJobStatusInProgress, Secondary: types.SecondaryStatusTraining}, done)
	fake.AddJob(req(jobs[2], jobs[2].BaseName), sagemakertest.State{Status: types.TrainingJobStatusStopped})
	other := req(jobs[3], jobs[3].BaseName)
	other.HyperParameters = map[string]string{"num_classes": "9"}
	fake.AddJob(other, done)

	runs, err := newTuner(fake, &fakeClock{}).Run(context.Background(), jobs)
	var me *sagemaker.MismatchError
	if !errors.As(err, &me) || me.Job != jobs[3].BaseName {
		t.Fatalf("err = %v, want a MismatchError for %s", err, jobs[3].BaseName)
	}
	if diff := cmp.Diff([]string{jobs[2].BaseName + "-a2"}, fake.CreatedJobs()); diff != "" {
		t.Errorf("created (-want +got):\n%s; want only a new attempt of the stopped job", diff)
	}
	if len(runs) != 4 {
		t.Errorf("runs = %d, want 4 (reused, attached, stopped, its new attempt)", len(runs))
	}
}

func TestTunerCancelStopsStartedJobs(t *testing.T) {
	jobs := plan(t, "num_layers=18,34,50,101")
	fake := sagemakertest.New()
	fake.DefaultScript(sagemakertest.State{Status: types.TrainingJobStatusInProgress, Secondary: types.SecondaryStatusTraining})
	ctx, cancel := context.WithCancelCause(context.Background())
	clock := &fakeClock{}
	clock.hook = func() {
		if fake.Calls("CreateTrainingJob") >= 3 {
			cancel(errors.New("SIGTERM"))
		}
	}
	runs, err := newTuner(fake, clock).Run(ctx, jobs)
	if err == nil || !strings.Contains(err.Error(), "SIGTERM") {
		t.Fatalf("err = %v, want the cancellation cause", err)
	}
	created, stopped := fake.CreatedJobs(), fake.StoppedJobs()
	if len(created) != 3 {
		t.Errorf("created %v, want 3 (max parallel) before the cancel", created)
	}
	if diff := cmp.Diff(sorted(created), sorted(stopped)); diff != "" {
		t.Errorf("stopped (-created +stopped):\n%s", diff)
	}
	_ = runs

	// A rerun attached to a job in progress stops it too when cancelled.
	attached := sagemakertest.New()
	in := *jobs[0].Request
	in.TrainingJobName = aws.String(jobs[0].BaseName)
	attached.AddJob(&in, sagemakertest.State{Status: types.TrainingJobStatusInProgress})
	attached.DefaultScript(sagemakertest.State{Status: types.TrainingJobStatusInProgress})
	ctx3, cancel3 := context.WithCancel(context.Background())
	clock3 := &fakeClock{hook: func() { cancel3() }}
	if _, err := newTuner(attached, clock3).Run(ctx3, jobs[:1]); err == nil {
		t.Fatal("no error after cancel")
	}
	if got := attached.StoppedJobs(); len(got) != 1 || got[0] != jobs[0].BaseName || len(attached.CreatedJobs()) != 0 {
		t.Errorf("stopped %v, created %v: want the attached job stopped, none created", got, attached.CreatedJobs())
	}

	keep := sagemakertest.New()
	keep.DefaultScript(sagemakertest.State{Status: types.TrainingJobStatusInProgress})
	ctx2, cancel2 := context.WithCancel(context.Background())
	clock2 := &fakeClock{hook: func() { cancel2() }}
	tuner := newTuner(keep, clock2)
	tuner.KeepJobsOnExit = true
	if _, err := tuner.Run(ctx2, jobs); err == nil {
		t.Fatal("no error after cancel")
	}
	if got := keep.StoppedJobs(); len(got) != 0 {
		t.Errorf("stopped %v with KeepJobsOnExit", got)
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestRunGrid(t *testing.T) {
	g, err := sagemaker.ParseGridFlags([]string{"num_layers=18,34,50", "epochs=5,10"}, []string{"use_pretrained_model=1"})
	if err != nil {
		t.Fatal(err)
	}
	hpo, err := sagemaker.PlanGrid(spec(), g, map[string]string{"num_classes": "4", "num_training_samples": "100"}, "rl-ic", sagemaker.GridOptions{MaxParallel: 2})
	if err != nil {
		t.Fatal(err)
	}
	fake := sagemakertest.New()
	fake.ScriptFunc(accuracyByLayers)
	runs, err := newTuner(fake, &fakeClock{}).RunGrid(context.Background(), hpo)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 6 {
		t.Fatalf("runs = %d, want 6", len(runs))
	}
	for _, r := range runs {
		if r.TuningJob != hpo.Name || len(r.Point) != 2 || r.Point[0].Name != "num_layers" {
			t.Errorf("run %+v: want the tuning job and its grid point", r)
		}
		if r.Best && r.Hyperparameters["num_layers"] != "50" {
			t.Errorf("best %s has num_layers %s, want 50", r.JobName, r.Hyperparameters["num_layers"])
		}
	}
	if got := fake.Calls("CreateHyperParameterTuningJob"); got != 1 {
		t.Errorf("tuning jobs created = %d, want 1", got)
	}
	again, err := newTuner(fake, &fakeClock{}).RunGrid(context.Background(), hpo)
	if err != nil || len(again) != 6 || fake.Calls("CreateHyperParameterTuningJob") != 1 {
		t.Errorf("rerun: %d runs, %v, %d creates; want the same tuning job reused", len(again), err, fake.Calls("CreateHyperParameterTuningJob"))
	}
}

// TestRunGridWaits: the tuning job goes through the same waiter as the
// training and transform jobs: a quota is waited out, a rerun that finds
// it failed starts the next attempt, a cancel stops it.
func TestRunGridWaits(t *testing.T) {
	g, err := sagemaker.ParseGridFlags([]string{"num_layers=18,34"}, []string{"use_pretrained_model=1"})
	if err != nil {
		t.Fatal(err)
	}
	hpo, err := sagemaker.PlanGrid(spec(), g, map[string]string{"num_classes": "4", "num_training_samples": "100"}, "rl-ic", sagemaker.GridOptions{MaxParallel: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("quota", func(t *testing.T) {
		fake := sagemakertest.New()
		fake.FailNext("CreateHyperParameterTuningJob", sagemakertest.LimitExceeded())
		runs, err := newTuner(fake, &fakeClock{}).RunGrid(context.Background(), hpo)
		if err != nil || len(runs) != 2 || fake.Calls("CreateHyperParameterTuningJob") != 2 {
			t.Errorf("%d runs, %v, %d creates; want 2 runs after the quota was waited out", len(runs), err, fake.Calls("CreateHyperParameterTuningJob"))
		}
	})
	t.Run("rerun after a failure", func(t *testing.T) {
		fake := sagemakertest.New()
		fake.ScriptFunc(func(in *sm.CreateTrainingJobInput) []sagemakertest.State {
			if strings.Contains(aws.ToString(in.TrainingJobName), "-a2-") {
				return nil // the default: completed
			}
			return []sagemakertest.State{{Status: types.TrainingJobStatusFailed, FailureReason: "ClientError: no data"}}
		})
		_, err := newTuner(fake, &fakeClock{}).RunGrid(context.Background(), hpo)
		var je *sagemaker.JobError
		if !errors.As(err, &je) || je.Kind != "tuning job" || je.Status != "Failed" || je.Job != hpo.Name {
			t.Fatalf("err = %v, want the tuning job failed", err)
		}
		// A rerun finds it failed and starts the next attempt.
		runs, err := newTuner(fake, &fakeClock{}).RunGrid(context.Background(), hpo)
		if err != nil || len(runs) != 2 || fake.Calls("CreateHyperParameterTuningJob") != 2 || runs[0].TuningJob != hpo.Name+"-a2" {
			t.Errorf("rerun: %d runs, %v, %d creates; want attempt 2 completed", len(runs), err, fake.Calls("CreateHyperParameterTuningJob"))
		}
	})
	t.Run("cancel stops it", func(t *testing.T) {
		fake := sagemakertest.New()
		fake.DefaultScript(sagemakertest.State{Status: types.TrainingJobStatusInProgress})
		ctx, cancel := context.WithCancelCause(context.Background())
		clock := &fakeClock{hook: func() { cancel(errors.New("SIGTERM")) }}
		_, err := newTuner(fake, clock).RunGrid(ctx, hpo)
		if err == nil || !strings.Contains(err.Error(), "SIGTERM") {
			t.Fatalf("err = %v, want the cancel", err)
		}
		if got := fake.Calls("StopHyperParameterTuningJob"); got != 1 {
			t.Errorf("StopHyperParameterTuningJob calls = %d, want 1", got)
		}
	})
}
