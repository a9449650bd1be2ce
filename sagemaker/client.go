package sagemaker

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
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

// NewClient returns a SageMaker client from the standard credential chain,
// with the SDK's standard retryer (throttling and server errors backed
// off) allowed more attempts than its default three, and the region it
// resolved.
func NewClient(ctx context.Context, opts ClientOptions) (*sagemaker.Client, string, error) {
	var lo []func(*config.LoadOptions) error
	if opts.Region != "" {
		lo = append(lo, config.WithRegion(opts.Region))
	}
	lo = append(lo, config.WithRetryer(func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxAttempts = 6 })
	}), config.WithHTTPClient(awsnet.NewHTTPClient(opts.IOTimeout)))
	cfg, err := config.LoadDefaultConfig(ctx, lo...)
	if err != nil {
		return nil, "", fmt.Errorf("aws config: %w", err)
	}
	if cfg.Region == "" {
		return nil, "", &SpecError{Field: "region", Reason: "no AWS region: give --region or set AWS_REGION"}
	}
	client := sagemaker.NewFromConfig(cfg, func(o *sagemaker.Options) {
		if opts.EndpointURL != "" {
			o.BaseEndpoint = aws.String(opts.EndpointURL)
		}
	})
	return client, cfg.Region, nil
}
