package awsnet

import (
	"testing"
	"time"
)

func TestTimeouts(t *testing.T) {
	for _, tt := range []struct{ in, want time.Duration }{{0, DefaultIOTimeout}, {-1, DefaultIOTimeout}, {3 * time.Second, 3 * time.Second}} {
		c := NewHTTPClient(tt.in)
		if got, ok := c.GetReadTimeout(); !ok || got != tt.want {
			t.Errorf("NewHTTPClient(%s): read timeout %s (set %v), want %s", tt.in, got, ok, tt.want)
		}
		if got := c.GetDialer().Timeout; got != tt.want {
			t.Errorf("NewHTTPClient(%s): dial timeout %s, want %s", tt.in, got, tt.want)
		}
		tr := c.GetTransport()
		if tr.ResponseHeaderTimeout != tt.want || tr.TLSHandshakeTimeout != tt.want {
			t.Errorf("NewHTTPClient(%s): header timeout %s, TLS %s, want %s", tt.in, tr.ResponseHeaderTimeout, tr.TLSHandshakeTimeout, tt.want)
		}
	}
}
