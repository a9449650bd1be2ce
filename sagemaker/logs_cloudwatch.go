package sagemaker

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
)

// CloudWatchLogsAPI is the part of the CloudWatch Logs API that
// CloudWatchLogs calls, as the SDK declares it. The SDK's
// *cloudwatchlogs.Client satisfies it, for AWS or a moto_server; make it
// with cloudwatchlogs.NewFromConfig on Config's configuration, so that it
// retries and times out as the SageMaker client does.
type CloudWatchLogsAPI interface {
	DescribeLogStreams(ctx context.Context, in *cloudwatchlogs.DescribeLogStreamsInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeLogStreamsOutput, error)
	GetLogEvents(ctx context.Context, in *cloudwatchlogs.GetLogEventsInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.GetLogEventsOutput, error)
}

var _ CloudWatchLogsAPI = (*cloudwatchlogs.Client)(nil)

// CloudWatchLogs is the LogSource of jobs that run on SageMaker: the
// CloudWatch Logs groups /aws/sagemaker/TrainingJobs and
// /aws/sagemaker/TransformJobs (see LogKind.LogGroup), read with
// DescribeLogStreams and GetLogEvents — the IAM actions
// logs:DescribeLogStreams and logs:GetLogEvents on those groups.
type CloudWatchLogs struct {
	API CloudWatchLogsAPI
}

var _ LogSource = CloudWatchLogs{}

// maxStreamPages bounds the pages of DescribeLogStreams one lookup reads
// (50 streams a page): a job has a stream an instance.
const maxStreamPages = 20

// Streams returns the streams of kind's log group whose names start with
// prefix. A log group that does not exist yet (no job of the kind has
// logged in the account and region) has none.
func (c CloudWatchLogs) Streams(ctx context.Context, kind LogKind, prefix string) ([]string, error) {
	in := &cloudwatchlogs.DescribeLogStreamsInput{
		LogGroupName:        aws.String(kind.LogGroup()),
		LogStreamNamePrefix: aws.String(prefix),
	}
	var names []string
	for range maxStreamPages {
		out, err := c.API.DescribeLogStreams(ctx, in)
		if err != nil {
			err = wrap("describe log streams", err)
			if errors.Is(err, ErrNotFound) {
				return nil, nil
			}
			return nil, err
		}
		for _, s := range out.LogStreams {
			names = append(names, aws.ToString(s.LogStreamName))
		}
		if out.NextToken == nil || aws.ToString(out.NextToken) == aws.ToString(in.NextToken) {
			break
		}
		in.NextToken = out.NextToken
	}
	return names, nil
}

// Events returns the events of stream after token, oldest first
// (GetLogEvents from the head, then on with its forward token).
func (c CloudWatchLogs) Events(ctx context.Context, kind LogKind, stream, token string) ([]LogEvent, string, error) {
	in := &cloudwatchlogs.GetLogEventsInput{
		LogGroupName:  aws.String(kind.LogGroup()),
		LogStreamName: aws.String(stream),
		StartFromHead: aws.Bool(true),
	}
	if token != "" {
		in.NextToken = aws.String(token)
	}
	out, err := c.API.GetLogEvents(ctx, in)
	if err != nil {
		return nil, token, wrap("get log events", err)
	}
	events := make([]LogEvent, 0, len(out.Events))
	for _, e := range out.Events {
		var t time.Time
		if e.Timestamp != nil {
			t = time.UnixMilli(*e.Timestamp).UTC()
		}
		events = append(events, LogEvent{Time: t, Message: aws.ToString(e.Message)})
	}
	next := aws.ToString(out.NextForwardToken)
	if next == "" {
		next = token
	}
	return events, next, nil
}
