// Package awsnet is the HTTP client every AWS call of reviewlens goes
// through (S3 and SageMaker alike), so that no network wait is unbounded:
// a server that accepts a connection and never answers, or stops sending
// in the middle of a body, fails the call within IOTimeout, and the SDK's
// retryer tries it again (its standard retryer treats a timeout as
// retryable). Steps then report what is left as transient (exit 75).
package awsnet

import (
	"net"
	"net/http"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// DefaultIOTimeout bounds each wait for the network: for a connection, and
// for the next bytes of a response (its headers or its body) once the
// request is sent. With the standard retryer's three attempts, a stalled
// server ends a step within about a minute (three waits and two short
// backoffs).
const DefaultIOTimeout = 20 * time.Second

// MaxIdleConns is how many idle connections a client keeps: steps fetch
// many small objects at once (the predictions step 64 by default), and
// the SDK's default of 10 would open a new connection for every request
// past ten.
const MaxIdleConns = 256

// NewHTTPClient returns the HTTP client for AWS clients, with waits
// bounded by ioTimeout (0 means DefaultIOTimeout): connecting (dial and TLS
// handshake), and reading, a window that restarts with every byte
// received, so a slow but moving transfer goes on while a silent one
// fails.
func NewHTTPClient(ioTimeout time.Duration) *awshttp.BuildableClient {
	if ioTimeout <= 0 {
		ioTimeout = DefaultIOTimeout
	}
	return awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = ioTimeout }).
		WithTransportOptions(func(t *http.Transport) {
			t.TLSHandshakeTimeout = ioTimeout
			t.ResponseHeaderTimeout = ioTimeout
			t.MaxIdleConns = MaxIdleConns
			t.MaxIdleConnsPerHost = MaxIdleConns
		}).
		WithReadTimeout(ioTimeout)
}
