package sagemaker_test

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/reviewlens/reviewlens/internal/testenv"
	"github.com/reviewlens/reviewlens/sagemaker"
)

// motoLogs returns a CloudWatch Logs client on moto_server, made as the
// commands make it: cloudwatchlogs.NewFromConfig on sagemaker.Config.
func motoLogs(t *testing.T) *cloudwatchlogs.Client {
	t.Helper()
	endpoint := testenv.S3Endpoint(t)
	opts := sagemaker.ClientOptions{Region: testenv.Region, EndpointURL: endpoint}
	cfg, err := sagemaker.Config(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return cloudwatchlogs.NewFromConfig(cfg, func(o *cloudwatchlogs.Options) { o.BaseEndpoint = aws.String(endpoint) })
}

// putLines writes lines to a stream as SageMaker would, creating the
// group and the stream as needed; each line is stamped a millisecond after
// the one before (at).
func putLines(t *testing.T, c *cloudwatchlogs.Client, group, stream string, at *int64, lines ...string) {
	t.Helper()
	ctx := t.Context()
	_, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)})
	var exists *types.ResourceAlreadyExistsException
	if err != nil && !errors.As(err, &exists) {
		t.Fatalf("create log group %s: %v", group, err)
	}
	_, err = c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream)})
	if err != nil && !errors.As(err, &exists) {
		t.Fatalf("create log stream %s: %v", stream, err)
	}
	var events []types.InputLogEvent
	for _, l := range lines {
		*at++
		events = append(events, types.InputLogEvent{Message: aws.String(l), Timestamp: aws.Int64(*at)})
	}
	if _, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream), LogEvents: events}); err != nil {
		t.Fatalf("put log events: %v", err)
	}
}

// closedLogs refuses, as a test error, any call that starts after its
// closed flag is set: following must have stopped by then.
type closedLogs struct {
	sagemaker.CloudWatchLogsAPI
	t      *testing.T
	closed *atomic.Bool
}

func (c closedLogs) DescribeLogStreams(ctx context.Context, in *cloudwatchlogs.DescribeLogStreamsInput, o ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeLogStreamsOutput, error) {
	if c.closed.Load() {
		c.t.Error("DescribeLogStreams after Close")
	}
	return c.CloudWatchLogsAPI.DescribeLogStreams(ctx, in, o...)
}

func (c closedLogs) GetLogEvents(ctx context.Context, in *cloudwatchlogs.GetLogEventsInput, o ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.GetLogEventsOutput, error) {
	if c.closed.Load() {
		c.t.Error("GetLogEvents after Close")
	}
	return c.CloudWatchLogsAPI.GetLogEvents(ctx, in, o...)
}

// TestFollowMoto follows a training job's two streams on moto_server's
// CloudWatch Logs over HTTP: every line arrives once, in the order
// written, across several reads, and nothing is read after Close.
func TestFollowMoto(t *testing.T) {
	c := motoLogs(t)
	job := "rl-ic-moto-" + strings.ToLower(rand.Text()[:10])
	s1, s2 := job+"/algo-1-1700000000", job+"/algo-2-1700000000"
	at := time.Now().UnixMilli()
	putLines(t, c, trainingGroup, s1, &at, "[0] Epoch 1", "[0] Epoch 2")
	putLines(t, c, trainingGroup, s2, &at, "[1] Epoch 1")
	// Another job whose name starts alike: not this job's.
	putLines(t, c, trainingGroup, job+"-a2/algo-1-1700000000", &at, "not this job's")

	var closed atomic.Bool
	clock := newStepClock()
	f, logs := startFollowing(t, sagemaker.CloudWatchLogs{API: closedLogs{CloudWatchLogsAPI: c, t: t, closed: &closed}}, clock, 0)
	f.Event(inProgress("training job", job))
	clock.waitSleep(t)
	checkLines(t, logs, []string{job + " " + s1 + ": [0] Epoch 1", job + " " + s1 + ": [0] Epoch 2", job + " " + s2 + ": [1] Epoch 1"})

	putLines(t, c, trainingGroup, s2, &at, "[1] Epoch 2")
	putLines(t, c, trainingGroup, s1, &at, "[0] Epoch 3")
	clock.tick(t)
	clock.waitSleep(t)
	clock.tick(t) // nothing new
	clock.waitSleep(t)
	putLines(t, c, trainingGroup, s1, &at, "[0] done")
	f.Event(ended("training job", job, sagemaker.StatusCompleted))
	clock.waitSleep(t) // settle
	putLines(t, c, trainingGroup, s2, &at, "[1] done")
	clock.tick(t)
	f.Close(context.Background())
	closed.Store(true)

	checkLines(t, logs, []string{
		job + " " + s1 + ": [0] Epoch 1", job + " " + s1 + ": [0] Epoch 2", job + " " + s2 + ": [1] Epoch 1",
		job + " " + s2 + ": [1] Epoch 2", job + " " + s1 + ": [0] Epoch 3",
		job + " " + s1 + ": [0] done", job + " " + s2 + ": [1] done",
	})
	if w := logs.warnings(); len(w) > 0 {
		t.Errorf("warnings: %q", w)
	}
}

// TestCloudWatchLogsMoto: the source's calls as moto_server answers them:
// a job that has not logged has no streams; a stream read to its end
// gives back the token it was given; a missing stream is ErrNotFound.
func TestCloudWatchLogsMoto(t *testing.T) {
	c := motoLogs(t)
	src := sagemaker.CloudWatchLogs{API: c}
	ctx := t.Context()
	job := "rl-tf-moto-" + strings.ToLower(rand.Text()[:10])
	names, err := src.Streams(ctx, sagemaker.TransformLogs, job+"/")
	if err != nil || len(names) != 0 {
		t.Fatalf("streams before any: %q, %v; want none, no error", names, err)
	}
	at := time.Now().UnixMilli()
	putLines(t, c, transformGroup, job+"/i-0abc", &at, "one", "two")
	names, err = src.Streams(ctx, sagemaker.TransformLogs, job+"/")
	if err != nil || len(names) != 1 || names[0] != job+"/i-0abc" {
		t.Fatalf("streams: %q, %v; want [%s/i-0abc]", names, err, job)
	}
	events, token, err := src.Events(ctx, sagemaker.TransformLogs, names[0], "")
	if err != nil || len(events) != 2 || events[0].Message != "one" || events[1].Message != "two" || events[0].Time.IsZero() {
		t.Fatalf("events: %+v, %v; want one, two, stamped", events, err)
	}
	more, next, err := src.Events(ctx, sagemaker.TransformLogs, names[0], token)
	if err != nil || len(more) != 0 || next != token {
		t.Errorf("at the end: %+v, %q, %v; want nothing and the same token %q", more, next, err, token)
	}
	_, _, err = src.Events(ctx, sagemaker.TransformLogs, job+"/no-such-stream", "")
	if !errors.Is(err, sagemaker.ErrNotFound) {
		t.Errorf("a missing stream: %v, want ErrNotFound", err)
	}
}
