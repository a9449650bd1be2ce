package sagemakertest

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go"

	"github.com/reviewlens/reviewlens/sagemaker"
)

// Logs is an in-memory fake of the CloudWatch Logs calls that
// sagemaker.CloudWatchLogs makes (sagemaker.CloudWatchLogsAPI), for
// testing a LogFollower: the test writes lines with Put, as SageMaker's
// jobs would, and makes calls fail with FailNext (Throttling and
// InternalError are the errors CloudWatch Logs gives too).
//
// It pages as CloudWatch does: DescribeLogStreams returns the streams of
// a group whose names start with the prefix, in name order, 50 a page;
// GetLogEvents returns at most PageSize events from the head of the
// stream on, and a forward token that, when nothing more has been
// written, is the token it was given. A group or stream that does not
// exist is a *types.ResourceNotFoundException. The zero value is not
// usable: call NewLogs.
type Logs struct {
	// PageSize bounds the events of one GetLogEvents answer; 0 means
	// 10,000, as CloudWatch's. Set it before the first call.
	PageSize int

	mu       sync.Mutex
	groups   map[string]map[string][]types.OutputLogEvent // group -> stream -> events
	calls    map[string]int
	failures map[string][]error
	now      time.Time
}

var _ sagemaker.CloudWatchLogsAPI = (*Logs)(nil)

// NewLogs returns an empty fake: no log group exists.
func NewLogs() *Logs {
	return &Logs{
		groups:   map[string]map[string][]types.OutputLogEvent{},
		calls:    map[string]int{},
		failures: map[string][]error{},
		now:      time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC),
	}
}

// Put appends lines to the stream of group, creating both as needed; each
// line is stamped a millisecond after the last line Put anywhere, so
// lines written in turn to several streams interleave in that order.
func (l *Logs) Put(group, stream string, lines ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	g := l.groups[group]
	if g == nil {
		g = map[string][]types.OutputLogEvent{}
		l.groups[group] = g
	}
	if _, ok := g[stream]; !ok {
		g[stream] = []types.OutputLogEvent{}
	}
	for _, line := range lines {
		l.now = l.now.Add(time.Millisecond)
		ms := l.now.UnixMilli()
		g[stream] = append(g[stream], types.OutputLogEvent{Timestamp: aws.Int64(ms), IngestionTime: aws.Int64(ms), Message: aws.String(line)})
	}
}

// FailNext makes the next calls of op ("DescribeLogStreams" or
// "GetLogEvents") fail with errs, one a call, before doing anything.
func (l *Logs) FailNext(op string, errs ...error) {
	checkLogsOp(op)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failures[op] = append(l.failures[op], errs...)
}

// Calls returns how many times op was called, failed calls included.
func (l *Logs) Calls(op string) int {
	checkLogsOp(op)
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.calls[op]
}

func checkLogsOp(op string) {
	if op != "DescribeLogStreams" && op != "GetLogEvents" {
		panic("sagemakertest: Logs has no operation " + op)
	}
}

// begin counts a call of op and returns the failure queued for it.
func (l *Logs) begin(op string) error {
	l.calls[op]++
	if fs := l.failures[op]; len(fs) > 0 {
		l.failures[op] = fs[1:]
		return logsOperationError(op, fs[0])
	}
	return nil
}

func logsOperationError(op string, err error) error {
	if _, ok := err.(*smithy.OperationError); ok {
		return err
	}
	return &smithy.OperationError{ServiceID: "CloudWatch Logs", OperationName: op, Err: err}
}

func logsNotFound(op, what string) error {
	return logsOperationError(op, responseError(http.StatusBadRequest,
		&types.ResourceNotFoundException{Message: aws.String("The specified " + what + " does not exist.")}))
}

// DescribeLogStreams lists the streams of in.LogGroupName whose names
// start with in.LogStreamNamePrefix, in name order.
func (l *Logs) DescribeLogStreams(ctx context.Context, in *cloudwatchlogs.DescribeLogStreamsInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeLogStreamsOutput, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	const op = "DescribeLogStreams"
	if err := l.begin(op); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, logsOperationError(op, err)
	}
	g, ok := l.groups[aws.ToString(in.LogGroupName)]
	if !ok {
		return nil, logsNotFound(op, "log group")
	}
	var names []string
	for name := range g {
		if strings.HasPrefix(name, aws.ToString(in.LogStreamNamePrefix)) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	start := 0
	if in.NextToken != nil {
		n, err := strconv.Atoi(*in.NextToken)
		if err != nil || n < 0 || n > len(names) {
			return nil, logsOperationError(op, responseError(http.StatusBadRequest,
				&types.InvalidParameterException{Message: aws.String("The specified nextToken is invalid.")}))
		}
		start = n
	}
	limit := 50
	if in.Limit != nil {
		limit = int(*in.Limit)
	}
	end := min(start+limit, len(names))
	out := &cloudwatchlogs.DescribeLogStreamsOutput{}
	for _, name := range names[start:end] {
		out.LogStreams = append(out.LogStreams, types.LogStream{LogStreamName: aws.String(name)})
	}
	if end < len(names) {
		out.NextToken = aws.String(strconv.Itoa(end))
	}
	return out, nil
}

// GetLogEvents returns the events of a stream from the head
// (StartFromHead), or after in.NextToken.
func (l *Logs) GetLogEvents(ctx context.Context, in *cloudwatchlogs.GetLogEventsInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.GetLogEventsOutput, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	const op = "GetLogEvents"
	if err := l.begin(op); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, logsOperationError(op, err)
	}
	if !aws.ToBool(in.StartFromHead) {
		return nil, fmt.Errorf("sagemakertest: Logs.GetLogEvents fakes only StartFromHead reads")
	}
	g, ok := l.groups[aws.ToString(in.LogGroupName)]
	if !ok {
		return nil, logsNotFound(op, "log group")
	}
	events, ok := g[aws.ToString(in.LogStreamName)]
	if !ok {
		return nil, logsNotFound(op, "log stream")
	}
	start := 0 // index of the next event to return
	if in.NextToken != nil {
		n, err := strconv.Atoi(strings.TrimPrefix(*in.NextToken, "f/"))
		if err != nil || !strings.HasPrefix(*in.NextToken, "f/") || n < 0 || n > len(events) {
			return nil, logsOperationError(op, responseError(http.StatusBadRequest,
				&types.InvalidParameterException{Message: aws.String("The specified nextToken is invalid.")}))
		}
		start = n
	}
	size := l.PageSize
	if size <= 0 {
		size = 10000
	}
	if in.Limit != nil {
		size = min(size, int(*in.Limit))
	}
	end := min(start+size, len(events))
	return &cloudwatchlogs.GetLogEventsOutput{
		Events:            slices.Clone(events[start:end]),
		NextForwardToken:  aws.String(fmt.Sprintf("f/%d", end)),
		NextBackwardToken: aws.String(fmt.Sprintf("b/%d", start)),
	}, nil
}
