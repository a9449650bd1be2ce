package sagemaker

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"

	"github.com/reviewlens/reviewlens/internal/awsnet"
)

// ClientOptions configure NewClient.
type ClientOptions struct {
	Region      string // "" = the standard chain (AWS_REGION, shared config)
	EndpointURL string // "" = AWS; e.g. a moto_server
	// IOTimeout bounds each wait for the network (a connection, the next
	// bytes of a response); 0 means 20 s. A call that stalls is retried by
	// the SDK.
	IOTimeout time.Duration
}

// sdkAttempts is how many times a SageMaker call is tried by the SDK's
// standard retryer before its error reaches this package.
const sdkAttempts = 6

// NewClient returns a SageMaker client from the standard credential chain,
// and the region it resolved. Its retryer is the SDK's standard one,
// allowed six attempts: throttling, HTTP 5xx, timeouts and connection
// errors are retried with exponential backoff and jitter (up to 20 s), and
// nothing in this package retries them again (see Polling). It has no
// client-side retry quota: a long wait on many jobs would otherwise use it
// up in a burst of throttling and then fail calls without trying them.
//
// It is Config and NewClientFromConfig; a program that talks to other
// services beside SageMaker (CloudWatch Logs, for LogFollower) calls those
// two, so that every client shares one configuration and HTTP client.
func NewClient(ctx context.Context, opts ClientOptions) (*sagemaker.Client, string, error) {
	return newClient(ctx, opts)
}

// Config returns the AWS configuration NewClient makes its client from:
// the standard credential chain, opts.Region, the retryer NewClient
// describes, and an HTTP client whose network waits are bounded by
// opts.IOTimeout. A configuration without a region is a *SpecError.
// Clients of other services made from it (cloudwatchlogs.NewFromConfig)
// retry and time out as the SageMaker client does; point them at
// opts.EndpointURL yourself.
func Config(ctx context.Context, opts ClientOptions) (aws.Config, error) {
	return loadConfig(ctx, opts)
}

// NewClientFromConfig returns the SageMaker client of cfg (from Config),
// pointed at opts.EndpointURL when it is set.
func NewClientFromConfig(cfg aws.Config, opts ClientOptions) *sagemaker.Client {
	return sagemaker.NewFromConfig(cfg, func(o *sagemaker.Options) {
		if opts.EndpointURL != "" {
			o.BaseEndpoint = aws.String(opts.EndpointURL)
		}
	})
}

// newClient is NewClient; tests change the retryer's options (its backoff).
func newClient(ctx context.Context, opts ClientOptions, retryOpts ...func(*retry.StandardOptions)) (*sagemaker.Client, string, error) {
	cfg, err := loadConfig(ctx, opts, retryOpts...)
	if err != nil {
		return nil, "", err
	}
	return NewClientFromConfig(cfg, opts), cfg.Region, nil
}

func loadConfig(ctx context.Context, opts ClientOptions, retryOpts ...func(*retry.StandardOptions)) (aws.Config, error) {
	var lo []func(*config.LoadOptions) error
	if opts.Region != "" {
		lo = append(lo, config.WithRegion(opts.Region))
	}
	lo = append(lo, config.WithRetryer(func() aws.Retryer {
		return retry.NewStandard(append([]func(*retry.StandardOptions){func(o *retry.StandardOptions) {
			o.MaxAttempts = sdkAttempts
			o.RateLimiter = ratelimit.None
		}}, retryOpts...)...)
	}), config.WithHTTPClient(awsnet.NewHTTPClient(opts.IOTimeout)))
	cfg, err := config.LoadDefaultConfig(ctx, lo...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("aws config: %w", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, &SpecError{Field: "region", Reason: "no AWS region: give --region or set AWS_REGION"}
	}
	return cfg, nil
}
